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
    alerts: sqlAlertStore(db, options),
    outbox: sqlOutboxStore(db, options),
    mail: sqlMailStore(db),
    localTickets: sqlLocalTicketStore(db, options),
    fits: sqlFitStore(db),
    satisfaction: sqlSatisfactionStore(db, options),
    inbound: sqlInboundStore(db, options),
    writebacks: sqlWritebackStore(db, options),
    retention: sqlRetentionStore(db),
  };
}
