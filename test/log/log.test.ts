/**
 * Logs by subsystem and level (src/log.ts): what is written and what is not, secrets hidden
 * unless key logging is on, and the bound on lines per second.
 */
import { fromHex } from '../../src/crypto/bytes.js';
import { CounterWatch, Logger, LogLevel } from '../../src/log.js';
import { deepEqual, equal, ok } from '../assert.js';
import { test } from '../harness.js';

test('logs: a line is written when its level is at most its subsystem\'s (default for the rest); messages built only when written', () => {
  const lines: string[] = [];
  const log = new Logger((l) => lines.push(l), { logging: { levels: { default: 0, esp: 2 } }, now: () => 0 });
  log.log('esp', LogLevel.DIAGNOSE, 'SA 0x1001 installed');
  log.log('esp', LogLevel.RAW, 'not this');
  log.log('cfg', LogLevel.AUDIT, 'loaded');
  log.log('cfg', LogLevel.CONTROL, 'not this either');
  let built = 0;
  log.log('net', LogLevel.PRIVATE, () => `${++built}`);
  equal(built, 0, 'a function message is not called for a line not written');
  log.log('knl', LogLevel.AUDIT, 'two\nlines');
  deepEqual(lines, ['[ESP] SA 0x1001 installed', '[CFG] loaded', '[KNL] two lines']);
  ok(log.enabled('esp', 2) && !log.enabled('esp', 3) && !log.enabled('ike', 1));
  const silent = new Logger(() => lines.push('x'), { logging: { levels: { default: -1 } } });
  silent.log('cfg', LogLevel.AUDIT, 'nothing');
  equal(lines.length, 3, 'level -1 is silent');
  equal(new Logger(() => {}).level('ike'), 1, 'strongSwan\'s default level is 1');
});

test('logs: secrets are hidden unless key logging is switched on', () => {
  const key = fromHex('00112233445566778899aabbccddeeff');
  equal(new Logger(() => {}).secret(key), '<hidden 16 bytes>');
  equal(new Logger(() => {}, { logging: { keylog: false, levels: { default: 4 } } }).secret(key), '<hidden 16 bytes>', 'level 4 alone is not enough');
  equal(new Logger(() => {}, { logging: { keylog: true } }).secret(key), '00112233445566778899aabbccddeeff');
});

test('logs: at most N lines a second; the rest are counted and reported when writing resumes', () => {
  const lines: string[] = [];
  let now = 5000;
  const log = new Logger((l) => lines.push(l), { linesPerSecond: 3, now: () => now });
  for (let i = 0; i < 10; i++) log.log('esp', LogLevel.AUDIT, `drop ${i}`);
  deepEqual(lines, ['[ESP] drop 0', '[ESP] drop 1', '[ESP] drop 2']);
  now += 1000;
  log.log('esp', LogLevel.AUDIT, 'next');
  deepEqual(lines.slice(3), ['[LOG] 7 lines not written (more than 3 a second)', '[ESP] next']);
});

test('counter watch: what grew since the last look, by name', () => {
  const watch = new CounterWatch();
  const counters = { inboundOpenFailed: 0, outboundDiscarded: 2 };
  deepEqual(watch.changes('gateway', counters), ['outboundDiscarded +2']);
  deepEqual(watch.changes('gateway', counters), []);
  counters.inboundOpenFailed = 5;
  counters.outboundDiscarded = 3;
  deepEqual(watch.changes('gateway', counters), ['inboundOpenFailed +5', 'outboundDiscarded +1']);
  deepEqual(watch.changes('sa 0x1001', { 'auth failure': 1 }), ['auth failure +1'], 'scopes are separate');
});
