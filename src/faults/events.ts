import type { Alert, AlertNote } from '../sources';
import type { AlertRecord } from './fault';

/**
 * What can happen to a fault: the input of decide(). Alert events come from
 * sources, human events from ticket systems and operators, timer events from
 * the scheduled jobs.
 */
export type FaultEvent = AlertEvent | HumanEvent | TimerEvent;

/** The alert a source event is about, as this fault holds it (absent: new to the fault). */
interface AboutAlert {
  alert: Alert;
  record?: AlertRecord;
}

export type AlertEvent =
  /** A firing delivery; `fs` as the fault's category reads the alert's labels; `newId` names the fault it may open. */
  | (AboutAlert & Follows & { type: 'alert_firing'; fs: number; newId: string; opening: OpeningFacts })
  | (AboutAlert & { type: 'alert_resolved' })
  /** Something a source says about an alert besides its state (a comment, its flapping, a downtime). */
  | (AboutAlert & Follows & { type: 'alert_note'; note: AlertNote; fs: number; newId: string; opening: OpeningFacts });

/** What a fault opened by this alert is called: its category's fault key. */
export interface OpeningFacts {
  key: string;
  keyLabels: Record<string, string>;
}

/** With a firing event: the closed ticket a fault it opens continues (see Decision.follows). */
export interface Follows {
  follows?: { system: string; id: string };
}

/** Who did something, as the timeline shows it. */
export interface Actor {
  /** A ticket system's user (an e-mail or login), or an operator's name. */
  by: string;
  /** Where it came from: zendesk, servicenow, api, cli, console. */
  via: string;
}

export type HumanEvent = Actor &
  (
    | { type: 'acknowledge'; text?: string }
    /** A person takes back an acknowledgement (the ticket was unassigned, or through the API). */
    | { type: 'unacknowledge'; text?: string }
    | { type: 'comment'; text: string }
    | { type: 'assign'; tier?: string; group?: string; assignee?: string }
    | { type: 'solve'; text?: string }
    | { type: 'close'; code?: string; text?: string }
    | { type: 'reopen'; text?: string }
    | { type: 'priority'; priority: string }
    /**
     * What a ticket system says its ticket is now (a webhook or a poll): decide() compares it with
     * what it heard before and acts on what people changed. `tier` is the tier the group maps to;
     * `wontFix` says the resolution is one the config lists as won't fix.
     */
    | {
        type: 'ticket_changed';
        status?: string;
        assignee?: string | null;
        group?: string | null;
        tier?: string;
        priority?: string;
        /**
         * `priority` is known not to be the one faultdesk sets (the system's word for faultdesk's
         * priority is known): a person's even when it is the first priority heard of the ticket.
         */
        priorityNotOwn?: boolean;
        closeCode?: string;
        wontFix?: boolean;
        comment?: { text: string; author?: string };
        /** faultdesk's own API user made the change (an echo): remembered, never acted on. */
        own?: boolean;
      }
    /** An operator resolves a fault by hand (a source that never sends its recovery). */
    | { type: 'resolve'; reason: string; firing: AlertRecord[] }
  );

export type TimerEvent =
  /** A flapping fault has been quiet long enough (or its source said it stopped). */
  | { type: 'flapping_quiet' }
  /** An open fault passed its due time. */
  | { type: 'due_passed' }
  /** An acknowledged fault's write-back is due again (an Alertmanager silence nears its end). */
  | { type: 'writeback_due' }
  /**
   * No alert of the fault was heard of for `afterMs`: a source that resends firing alerts stopped
   * (`resends`), or one that sends a problem once never sent its recovery.
   */
  | { type: 'stale'; afterMs: number; resends?: boolean; firing: AlertRecord[] };
