import type { MailEvent } from '../config/schema';
import type { RepairTimeModel } from '../estimate';
import type { Matcher } from './matcher';
import type { CompiledField } from './fields';
import type { Template } from './templates';

export type TicketSystemName = 'local' | 'zendesk' | 'servicenow';

export interface SeverityRule {
  fixed?: number;
  label?: string;
  map: Record<string, number>;
  numericLabel?: string;
  default: number;
}

export interface FlappingPolicy {
  /** More state changes than this within `windowMs` make a fault flapping. */
  changes: number;
  windowMs: number;
  /** A flapping fault settles after this long without a state change. */
  quietMs: number;
}

/** A category, compiled: what the engine and the fault lifecycle work with. */
export interface Category {
  name: string;
  /** Position in the rule order (first match wins). */
  order: number;
  file: string;
  line: number;
  column: number;
  matchers: Matcher[];
  faultKey?: string[];
  severity: SeverityRule;
  repairTime: RepairTimeModel;
  /** Bands sorted by `min` descending. */
  priority: Array<{ min: number; value: string }>;
  ticket: {
    system: TicketSystemName;
    subject: Template;
    body: Template;
    solveOnResolve: boolean;
    fields: Record<string, CompiledField>;
  };
  diagnosis: { runbook?: Template; graph?: Template; hints: Template[] };
  /** Who is mailed on which events; undefined: the config's defaults (with its severity threshold). */
  notify?: { to?: string[]; events: MailEvent[] };
  updateIntervalMs: number;
  reopenWithinMs: number;
  flapping: FlappingPolicy;
  action: 'ticket' | 'drop';
  /** The support tier its faults start at (undefined without tiers). */
  tier?: string;
  /** false: acknowledgements are not written back to the monitoring systems. */
  writeback?: boolean;
}
