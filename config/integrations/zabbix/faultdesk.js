// faultdesk webhook for Zabbix: posts the event to faultdesk's /api/v1/alerts/zabbix.
// Zabbix runs this in its Duktape engine, so it is plain ES5: var, function, no arrows or templates.
var Faultdesk = {
    // Parameters whose macro Zabbix could not expand arrive as the macro itself, or as *UNKNOWN*
    // (e.g. {HOST.IP} of a host without interfaces): treat them as empty.
    clean: function (text) {
        if (typeof text !== 'string') {
            return '';
        }
        if (/^\{[A-Z0-9_.$#]+(\.[A-Za-z0-9_]+)*\}$/.test(text) || /^<PLACE .* HERE>$/.test(text) || text === '*UNKNOWN*') {
            return '';
        }
        return text;
    },

    tags: function (json) {
        var list;
        try {
            list = JSON.parse(json);
        }
        catch (error) {
            return [];
        }
        if (Object.prototype.toString.call(list) !== '[object Array]') {
            return [];
        }
        var tags = [];
        for (var i = 0; i < list.length; i++) {
            if (list[i] && typeof list[i].tag === 'string') {
                tags.push({tag: list[i].tag, value: typeof list[i].value === 'string' ? list[i].value : ''});
            }
        }
        return tags;
    },

    send: function (url, token, proxy, body) {
        var request = new HttpRequest();
        request.addHeader('Content-Type: application/json');
        if (token !== '') {
            request.addHeader('Authorization: Bearer ' + token);
        }
        if (proxy !== '') {
            request.setProxy(proxy);
        }
        var response = request.post(url, JSON.stringify(body));
        var status = request.getStatus();
        Zabbix.log(4, '[ faultdesk webhook ] ' + url + ' answered ' + status + ': ' + response);
        if (status < 200 || status >= 300) {
            throw 'faultdesk answered HTTP ' + status + ': ' + response;
        }
        try {
            return JSON.parse(response);
        }
        catch (error) {
            return {};
        }
    }
};

var FIELDS = [
    'event_id', 'event_value', 'event_update_status', 'event_source', 'event_nseverity', 'event_severity',
    'event_name', 'event_timestamp', 'event_recovery_timestamp', 'event_update_action', 'event_update_message',
    'event_update_user', 'host_name', 'host_ip', 'trigger_id', 'trigger_name', 'alert_subject', 'alert_message',
    'zabbix_url'
];

try {
    var params = JSON.parse(value);
    var base = Faultdesk.clean(params.faultdesk_url).replace(/\/+$/, '');
    if (base === '') {
        throw 'Parameter "faultdesk_url" is not set: give it faultdesk\'s base URL, e.g. http://faultdesk.example:9095';
    }
    if (Faultdesk.clean(params.event_source) !== '' && params.event_source !== '0') {
        throw 'faultdesk handles trigger events only (event source 0), not event source ' + params.event_source;
    }
    var body = {};
    for (var i = 0; i < FIELDS.length; i++) {
        var text = Faultdesk.clean(params[FIELDS[i]]);
        if (text !== '') {
            body[FIELDS[i]] = text;
        }
    }
    // Zabbix names who acted only to a media user that shares a user group with them.
    if (body.event_update_user === 'Inaccessible user') {
        delete body.event_update_user;
    }
    body.event_tags = Faultdesk.tags(params.event_tags);

    var answer = Faultdesk.send(base + '/api/v1/alerts/zabbix', Faultdesk.clean(params.faultdesk_token),
        Faultdesk.clean(params.HTTPProxy), body);

    // Problem events store a link to the fault as event tags, for the event menu.
    var result = {tags: {}};
    if (body.event_value === '1' && body.event_update_status !== '1' && answer.faults && answer.faults[0]) {
        result.tags.__faultdesk_fault = answer.faults[0];
        result.tags.__faultdesk_link = base + '/api/v1/faults/' + answer.faults[0];
    }
    return JSON.stringify(result);
}
catch (error) {
    Zabbix.log(3, '[ faultdesk webhook ] ERROR: ' + error);
    throw 'Sending to faultdesk failed: ' + error;
}
