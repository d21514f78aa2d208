/**
 * The validators used by the manifest tests really reject bad objects:
 * each row breaks one thing and must be caught, so a validator that
 * silently accepts everything fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { strictFieldCheck, validateAgainstCrd, validateWithModel, type K8sObject } from '../../support/k8s-schemas.ts';

/** The repository root (this file is test/unit/k8s/). */
const ROOT = resolve(import.meta.dirname, '..', '..', '..');

const pod = (spec: Record<string, unknown>): K8sObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec });
const crd = parse(readFileSync(join(ROOT, 'k8s/base/spire/crd-clusterspiffeids.yaml'), 'utf8')) as K8sObject;
const cr = (spec: Record<string, unknown>): K8sObject => ({ apiVersion: 'spire.spiffe.io/v1alpha1', kind: 'ClusterSPIFFEID', metadata: { name: 'x' }, spec });

{
  test('validateWithModel (kubernetes-models schemas): accepts a valid pod', async () => {
    assert.equal(await validateWithModel(pod({ containers: [{ name: 'a', image: 'b', ports: [{ containerPort: 80 }] }] })), undefined);
  });
  const bad: [string, K8sObject, RegExp][] = [
    ['a missing required field', pod({ containers: [{ image: 'b' }] }), /name/],
    ['a wrong type', pod({ containers: [{ name: 'a', ports: [{ containerPort: 'eighty' }] }] }), /integer/],
    ['a wrong quantity type', pod({ containers: [{ name: 'a', resources: { limits: { cpu: {} } } }] }), /cpu/],
    ['a missing spec.containers', pod({}), /containers/],
  ];
  for (const [name, obj, message] of bad) {
    test(`validateWithModel (kubernetes-models schemas): rejects ${name}`, async () => {
      assert.match((await validateWithModel(obj)) ?? 'accepted', message);
    });
  }
}

{
  test('strictFieldCheck (unknown fields): accepts valid objects of several kinds', () => {
    assert.deepEqual(strictFieldCheck([
      pod({ containers: [{ name: 'a', image: 'b' }], initContainers: [{ name: 's', image: 'b', restartPolicy: 'Always' }] }),
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { selector: {}, template: { spec: { containers: [{ name: 'a' }] } } } },
    ]), []);
  });
  const bad: [string, K8sObject, RegExp][] = [
    ['a typo at the top of a container', pod({ containers: [{ name: 'a', imagePulPolicy: 'Always' }] }), /imagePulPolicy/],
    ['an unknown field deep inside', pod({ containers: [{ name: 'a', securityContext: { capabilities: { remove: ['ALL'] } } }] }), /remove/],
    ['an unknown field in a Deployment template', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { selector: {}, template: { spec: { containers: [{ name: 'a' }], hostNetworking: true } } } }, /hostNetworking/],
    ['an unknown field in a webhook', { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'm' }, webhooks: [{ name: 'a.b.c', admissionReviewVersions: ['v1'], sideEffects: 'None', clientConfig: {}, failPolicy: 'Ignore' }] }, /failPolicy/],
  ];
  for (const [name, obj, message] of bad) {
    test(`strictFieldCheck (unknown fields): rejects ${name}`, () => {
      const problems = strictFieldCheck([obj]);
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0]!, message);
    });
  }
}

{
  test('validateAgainstCrd (ClusterSPIFFEID): accepts a valid resource', () => {
    assert.deepEqual(validateAgainstCrd(cr({ spiffeIDTemplate: 'spiffe://x/y', podSelector: { matchLabels: { a: 'b' } }, ttl: '1h' }), crd), []);
  });
  const bad: [string, K8sObject, RegExp][] = [
    ['a missing spiffeIDTemplate', cr({ podSelector: {} }), /spiffeIDTemplate is missing/],
    ['an unknown spec field', cr({ spiffeIDTemplate: 'x', spiffeIdTemplate: 'y' }), /spiffeIdTemplate: unknown field/],
    ['a wrong type', cr({ spiffeIDTemplate: 'x', admin: 'yes' }), /admin: must be a boolean/],
    ['a bad selector expression', cr({ spiffeIDTemplate: 'x', namespaceSelector: { matchExpressions: [{ key: 'k' }] } }), /operator is missing/],
    ['a label value that is not a string', cr({ spiffeIDTemplate: 'x', podSelector: { matchLabels: { a: 1 } } }), /must be a string/],
    ['another version', { ...cr({ spiffeIDTemplate: 'x' }), apiVersion: 'spire.spiffe.io/v1' }, /not served/],
  ];
  for (const [name, obj, message] of bad) {
    test(`validateAgainstCrd (ClusterSPIFFEID): rejects ${name}`, () => {
      assert.match(validateAgainstCrd(obj, crd).join('\n'), message);
    });
  }
}
