import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { loadConfig } from '../src/config';
import { REPO } from './helpers';

test('the deployment examples are valid YAML, wire readiness, and their faultdesk config loads', () => {
  const compose = parse(readFileSync(path.join(REPO, 'config/deploy/compose.yaml'), 'utf8'));
  expect(compose.services.faultdesk.deploy.replicas).toBe(2);
  expect(compose.services.faultdesk.healthcheck.test.join(' ')).toContain('/-/ready');
  expect(compose.services.faultdesk.environment.FAULTDESK_STORE_URL).toMatch(/^postgres:\/\//);
  const k8s = parseAllDocuments(readFileSync(path.join(REPO, 'config/deploy/kubernetes.yaml'), 'utf8')).map((d) => d.toJS());
  const deployment = k8s.find((d) => d.kind === 'Deployment');
  expect(deployment.spec.replicas).toBe(2);
  expect(deployment.spec.template.spec.containers[0].readinessProbe.httpGet.path).toBe('/-/ready');
  // The configs parse under faultdesk's own schema (secret files aside).
  const configMap = k8s.find((d) => d.kind === 'ConfigMap');
  for (const text of [configMap.data['faultdesk.yaml'], readFileSync(path.join(REPO, 'config/deploy/faultdesk.yaml'), 'utf8')]) {
    const stripped = text.replace(/bearer_token_file: [^ }]+/g, 'bearer_token: x');
    const file = path.join(tmpdir(), `deploy-${process.pid}-${Math.random().toString(16).slice(2)}.yaml`);
    writeFileSync(file, stripped);
    expect(loadConfig({ file }).listen).toBe('0.0.0.0:9095');
  }
  const dockerfile = readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');
  expect(dockerfile).toMatch(/^USER node$/m);
  expect(dockerfile).toMatch(/^HEALTHCHECK /m);
  expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
});
