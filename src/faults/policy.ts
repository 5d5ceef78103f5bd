import { priorityOf, type Category, type FlappingPolicy } from '../rules';
import type { RepairTimeModel } from '../estimate';

/** What decide() needs of a fault's category: its lifecycle settings, read from the rules. */
export interface Policy {
  category: string;
  rule: { file: string; line: number };
  ticketSystem: string;
  /** The repair-time model for a fault opened now (fitted, else the rule's). */
  model: RepairTimeModel;
  priorityOf(fs: number): string;
  reopenWithinMs: number;
  flapping: FlappingPolicy;
  solveOnResolve: boolean;
}

export function policyOf(category: Category, fitted?: RepairTimeModel): Policy {
  return {
    category: category.name,
    rule: { file: category.file, line: category.line },
    ticketSystem: category.ticket.system,
    model: fitted ?? category.repairTime,
    priorityOf: (fs) => priorityOf(category, fs),
    reopenWithinMs: category.reopenWithinMs,
    flapping: category.flapping,
    solveOnResolve: category.ticket.solveOnResolve,
  };
}
