import type { Repos } from '../types';
import { sqlAlertStore } from './alerts';
import type { Db, SqlOptions } from './common';
import { sqlFaultStore } from './faults';
import { sqlFitStore, sqlSatisfactionStore } from './feedback';
import { sqlInboundStore } from './inbound';
import { sqlMailStore, sqlOutboxStore } from './outbox';
import { sqlRetentionStore } from './retention';
import { sqlLocalTicketStore } from './tickets';
import { sqlWritebackStore } from './writebacks';

/** Every stage's store over one executor: the root connection or a transaction. */
export function sqlRepos(db: Db, options: SqlOptions): Repos {
  return {
    faults: sqlFaultStore(db, options),
    alerts: sqlAlertStore(db),
    outbox: sqlOutboxStore(db, options),
    mail: sqlMailStore(db),
    localTickets: sqlLocalTicketStore(db),
    fits: sqlFitStore(db),
    satisfaction: sqlSatisfactionStore(db),
    inbound: sqlInboundStore(db),
    writebacks: sqlWritebackStore(db),
    retention: sqlRetentionStore(db),
  };
}
