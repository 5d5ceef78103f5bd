import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/log';
import { OwnUsers } from '../../src/tickets/inbound/own-users';

test('faultdesk\'s own user is asked for once; a failure is logged and asked again next time', async () => {
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => lines.push(c.toString()));
  let calls = 0;
  const own = new OwnUsers(
    {
      zendesk: async () => {
        calls += 1;
        if (calls === 1) throw new Error('zendesk GET /api/v2/users/me: HTTP 503');
        return { id: '900', email: 'faultdesk@acme.example' };
      },
    },
    createLogger({ level: 'info', secrets: [], stream }),
  );
  await own.learn('zendesk');
  expect(own.of('zendesk')).toEqual([]);
  expect(lines.join('')).toMatch(/could not learn faultdesk's own user/);
  await Promise.all([own.learn('zendesk'), own.learn('zendesk')]);
  expect(own.of('zendesk')).toEqual(['900', 'faultdesk@acme.example']);
  await own.learn('zendesk');
  await own.learn('servicenow'); // nothing to ask there
  expect(calls).toBe(2);
});
