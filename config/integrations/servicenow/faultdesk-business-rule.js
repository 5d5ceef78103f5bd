/*
 * faultdesk: tells faultdesk what people do with its incidents (the human loop).
 *
 * Business Rule on the incident table: When "after", Insert and Update checked, Advanced checked,
 * Condition: current.correlation_id != ''   (faultdesk's incidents carry the fault id there).
 * Paste this script as the rule's Script. It reads two system properties (System Properties >
 * sys_properties.list, New):
 *   faultdesk.inbound.url     https://faultdesk.example.com/api/v1/tickets/servicenow/events
 *   faultdesk.inbound.secret  the shared secret, base64 (openssl rand -base64 32); the same text goes
 *                             in faultdesk's tickets.servicenow.inbound.secret_file
 *
 * faultdesk's own changes are sent too: faultdesk knows them by sys_updated_by and only remembers
 * them, so that what it knows of the incident stays current.
 *
 * Each post is signed: X-Faultdesk-Signature = base64 HMAC-SHA256(key, timestamp + body), with
 * X-Faultdesk-Timestamp the epoch milliseconds it was signed at; faultdesk refuses anything else.
 */
(function executeRule(current, previous /* null when async */) {
  var endpoint = gs.getProperty('faultdesk.inbound.url', '');
  var key = gs.getProperty('faultdesk.inbound.secret', '');
  if (!endpoint || !key) {
    gs.warn('faultdesk business rule: set the system properties faultdesk.inbound.url and faultdesk.inbound.secret');
    return;
  }
  var correlation = current.getValue('correlation_id');
  if (!correlation) return;
  var updatedBy = current.getValue('sys_updated_by');

  var body = {
    faultdesk: 'servicenow-business-rule/1',
    sys_id: current.getUniqueValue(),
    number: value('number'),
    correlation_id: correlation,
    state: value('state'),
    close_code: value('close_code'),
    priority: value('priority'),
    assigned_to: value('assigned_to'),
    assigned_to_name: display('assigned_to'),
    assignment_group: value('assignment_group'),
    assignment_group_name: display('assignment_group'),
    sys_updated_by: updatedBy,
    sys_updated_on: value('sys_updated_on'),
    sys_mod_count: value('sys_mod_count'),
    journal: lastJournalEntry()
  };
  var text = JSON.stringify(body);
  var timestamp = String(new GlideDateTime().getNumericValue());
  var signature = new GlideCertificateEncryption().generateMac(key, 'HmacSHA256', timestamp + text);

  var request = new sn_ws.RESTMessageV2();
  request.setEndpoint(endpoint);
  request.setHttpMethod('post');
  request.setRequestHeader('Content-Type', 'application/json');
  request.setRequestHeader('X-Faultdesk-Timestamp', timestamp);
  request.setRequestHeader('X-Faultdesk-Signature', signature);
  request.setRequestBody(text);
  request.executeAsync(); // never holds up the person's save

  function value(field) {
    var v = current.getValue(field);
    return v === null || v === undefined ? '' : String(v);
  }

  function display(field) {
    var v = current.getDisplayValue(field);
    return v === null || v === undefined ? '' : String(v);
  }

  // The newest work note or comment of this incident (faultdesk takes each one once).
  function lastJournalEntry() {
    var j = new GlideRecord('sys_journal_field');
    j.addQuery('name', 'incident');
    j.addQuery('element_id', current.getUniqueValue());
    j.addQuery('element', 'IN', 'work_notes,comments');
    j.orderByDesc('sys_created_on');
    j.setLimit(1);
    j.query();
    if (!j.next()) return null;
    return { element: j.getValue('element'), value: j.getValue('value'), created_by: j.getValue('sys_created_by') };
  }
})(current, previous);
