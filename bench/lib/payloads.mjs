// The same alerts, as an Alertmanager webhook payload (to faultdesk) and as a
// POST /api/v2/alerts body (to Alertmanager itself).

const STARTS_AT = '2026-11-24T16:25:24.046Z';

/** Alert n of a stream over `keys` distinct label sets (one fault each with the shipped rules), from key `first` on. */
export function alertOf(n, keys, first = 0) {
  const k = first + (n % keys);
  return {
    labels: { alertname: 'TargetDown', job: 'bench', instance: `host-${k}:9100`, severity: 'critical' },
    annotations: { summary: `host-${k} is down`, description: `The node exporter on host-${k} has not answered for 5 minutes.` },
    startsAt: STARTS_AT,
    generatorURL: 'http://127.0.0.1:9090/graph?g0.expr=up+%3D%3D+0',
    fingerprint: k.toString(16).padStart(16, '0'),
  };
}

/** A webhook of `alerts`, all firing or (`status: 'resolved'`) all resolved now. */
export function webhookBody(alerts, status = 'firing') {
  const endsAt = status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z';
  return JSON.stringify({
    version: '4',
    groupKey: '{}:{alertname="TargetDown"}',
    truncatedAlerts: 0,
    status,
    receiver: 'faultdesk',
    groupLabels: { alertname: 'TargetDown' },
    commonLabels: { alertname: 'TargetDown', job: 'bench', severity: 'critical' },
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    alerts: alerts.map((a) => ({ status, ...a, endsAt })),
  });
}

export function alertmanagerBody(alerts) {
  return JSON.stringify(alerts.map(({ labels, annotations, startsAt, generatorURL }) => ({ labels, annotations, startsAt, generatorURL })));
}

/** `count` bodies of `perPayload` alerts each, walking through the keys in order (webhooks: firing, or `status`). */
export function bodies(count, perPayload, keys, format, first = 0, status = 'firing') {
  const out = [];
  for (let p = 0; p < count; p++) {
    const alerts = [];
    for (let i = 0; i < perPayload; i++) alerts.push(alertOf(p * perPayload + i, keys, first));
    out.push(format === 'alertmanager-api' ? alertmanagerBody(alerts) : webhookBody(alerts, status));
  }
  return out;
}
