// Writes media_faultdesk.yaml (the Zabbix export to import) with faultdesk.js embedded.
// Run after editing faultdesk.js: node config/integrations/zabbix/build-media-type.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';

const here = path.dirname(new URL(import.meta.url).pathname);

export function mediaType() {
  const script = readFileSync(path.join(here, 'faultdesk.js'), 'utf8');
  const parameters = [
    ['faultdesk_url', '<PLACE FAULTDESK URL HERE>'],
    ['faultdesk_token', '<PLACE TOKEN HERE>'],
    ['zabbix_url', '{$ZABBIX.URL}'],
    ['event_id', '{EVENT.ID}'],
    ['event_value', '{EVENT.VALUE}'],
    ['event_update_status', '{EVENT.UPDATE.STATUS}'],
    ['event_source', '{EVENT.SOURCE}'],
    ['event_nseverity', '{EVENT.NSEVERITY}'],
    ['event_severity', '{EVENT.SEVERITY}'],
    ['event_name', '{EVENT.NAME}'],
    ['event_tags', '{EVENT.TAGSJSON}'],
    ['event_timestamp', '{EVENT.TIMESTAMP}'],
    ['event_recovery_timestamp', '{EVENT.RECOVERY.TIMESTAMP}'],
    ['event_update_action', '{EVENT.UPDATE.ACTION}'],
    ['event_update_message', '{EVENT.UPDATE.MESSAGE}'],
    ['event_update_user', '{USER.FULLNAME}'],
    ['host_name', '{HOST.NAME}'],
    ['host_ip', '{HOST.IP}'],
    ['trigger_id', '{TRIGGER.ID}'],
    ['trigger_name', '{TRIGGER.NAME}'],
    ['alert_subject', '{ALERT.SUBJECT}'],
    ['alert_message', '{ALERT.MESSAGE}'],
  ].map(([name, value]) => ({ name, value }));
  const template = (operation_mode, subject, message) => ({ event_source: 'TRIGGERS', operation_mode, subject, message });
  return {
    zabbix_export: {
      version: '6.0',
      media_types: [
        {
          name: 'faultdesk',
          type: 'WEBHOOK',
          parameters,
          script,
          timeout: '10s',
          process_tags: 'YES',
          show_event_menu: 'YES',
          event_menu_url: '{EVENT.TAGS.__faultdesk_link}',
          event_menu_name: 'faultdesk fault',
          description:
            'Sends trigger events to faultdesk, which turns them into deduplicated faults and help-desk tickets.\n' +
            'Set faultdesk_url (e.g. http://faultdesk.example:9095) and faultdesk_token (the bearer token in\n' +
            "faultdesk's auth.sources.zabbix), and the global macro {$ZABBIX.URL} for links back to Zabbix.",
          message_templates: [
            template('PROBLEM', 'Problem: {EVENT.NAME}', 'Problem started at {EVENT.TIME} on {EVENT.DATE}\nProblem name: {EVENT.NAME}\nHost: {HOST.NAME}\nSeverity: {EVENT.SEVERITY}\nOperational data: {EVENT.OPDATA}\nOriginal problem ID: {EVENT.ID}\n'),
            template('RECOVERY', 'Resolved in {EVENT.DURATION}: {EVENT.NAME}', 'Problem has been resolved at {EVENT.RECOVERY.TIME} on {EVENT.RECOVERY.DATE}\nProblem name: {EVENT.NAME}\nProblem duration: {EVENT.DURATION}\nHost: {HOST.NAME}\nSeverity: {EVENT.SEVERITY}\nOriginal problem ID: {EVENT.ID}\n'),
            template('UPDATE', 'Updated problem: {EVENT.NAME}', '{USER.FULLNAME} {EVENT.UPDATE.ACTION} problem at {EVENT.UPDATE.DATE} {EVENT.UPDATE.TIME}.\n{EVENT.UPDATE.MESSAGE}\n\nCurrent problem status is {EVENT.STATUS}, acknowledged: {EVENT.ACK.STATUS}.\n'),
          ],
        },
      ],
    },
  };
}

export function renderMediaType() {
  return stringify(mediaType(), { lineWidth: 0, blockQuote: 'literal' });
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(here, 'build-media-type.mjs')) {
  // --stdout: print instead of writing, so a test can compare with the committed file.
  if (process.argv.includes('--stdout')) process.stdout.write(renderMediaType());
  else writeFileSync(path.join(here, 'media_faultdesk.yaml'), renderMediaType());
}
