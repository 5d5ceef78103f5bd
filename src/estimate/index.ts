export { repairTimeHours, dueAt, type RepairTimeModel } from './repair-time';
