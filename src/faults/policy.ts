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
  /** Support tiers in order (empty: no tiers), where this category's faults start, and when they move up. */
  tiers: readonly string[];
  startTier: string | null;
  tierEscalation: { onDue: boolean; afterReopens: number; atFs: number };
  /** What a recurrence does once a person closed the ticket. */
  afterHumanClose: { action: 'new_ticket' | 'quiet'; quietForMs: number };
  /** Whether acknowledgements are written back to the monitoring systems (a category may opt out). */
  writeback: boolean;
}

/** What the config says of the human loop, for every category. */
export interface LoopSettings {
  tiers: readonly string[];
  tierEscalation: Policy['tierEscalation'];
  afterHumanClose: Policy['afterHumanClose'];
}

export const NO_LOOP_SETTINGS: LoopSettings = {
  tiers: [],
  tierEscalation: { onDue: false, afterReopens: 0, atFs: 0 },
  afterHumanClose: { action: 'new_ticket', quietForMs: 0 },
};

export function policyOf(category: Category, fitted?: RepairTimeModel, loop: LoopSettings = NO_LOOP_SETTINGS): Policy {
  return {
    ...loop,
    startTier: loop.tiers.length > 0 ? (category.tier ?? loop.tiers[0] ?? null) : null,
    category: category.name,
    rule: { file: category.file, line: category.line },
    ticketSystem: category.ticket.system,
    model: fitted ?? category.repairTime,
    priorityOf: (fs) => priorityOf(category, fs),
    reopenWithinMs: category.reopenWithinMs,
    flapping: category.flapping,
    solveOnResolve: category.ticket.solveOnResolve,
    writeback: category.writeback !== false,
  };
}
