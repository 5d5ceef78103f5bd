export { repairTimeHours, dueAt, type RepairTimeModel } from './repair-time';
export { fitRepairTime, type RepairSample, type RepairTimeFit, type FitBounds } from './fit';
export { RepairTimeEstimates, type EstimateSettings, type StoredFit } from './estimates';
