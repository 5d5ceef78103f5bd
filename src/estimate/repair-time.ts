/** Coefficients of the repair-time model RT = a·ln(1 + b·FS), in hours. */
export interface RepairTimeModel {
  a: number;
  b: number;
}

const HOUR_MS = 3_600_000;

/** Estimated hours to repair a fault of severity `fs` (1–10). */
export function repairTimeHours(model: RepairTimeModel, fs: number): number {
  return model.a * Math.log(1 + model.b * fs);
}

/** When a fault opened at `openedAt` (ms) is due, given its estimate in hours. */
export function dueAt(openedAt: number, hours: number): number {
  return openedAt + Math.round(hours * HOUR_MS);
}
