/**
 * Our side of the strongSwan interop tests: the proposal matrix of issue 5 and our
 * simulator's configuration document for a test case (the shape of config/example-ike.json),
 * with short retransmission times so that a dead peer is noticed within seconds.
 */
import { REPO } from '../gateway/sites.js';
import type { SwanOptions } from './swan.js';

export const PSK = 'interop secret: not for production';

export const MATRIX: readonly [ike: string, esp: string][] = [
  ['aes128gcm16-prfsha256-x25519', 'aes128gcm16'],
  ['aes256-sha256-modp2048', 'aes256-sha256'],
  ['aes256gcm16-prfsha384-ecp384', 'aes256gcm16-ecp384'],
  ['chacha20poly1305-prfsha256-x25519', 'chacha20poly1305'],
];

export interface Case {
  ike: string;
  esp: string;
  /** who starts the IKE SA */
  initiator: 'us' | 'strongswan';
  /** our connection's extra keys (rekey_time, dpd_delay, ...), its child's, and the daemon section */
  ours?: Record<string, unknown>;
  ourChild?: Record<string, unknown>;
  daemon?: Record<string, unknown>;
  /** strongSwan's */
  swan?: Partial<SwanOptions>;
}

/** Our configuration document for a case (config/example-ike.json's shape). */
export function ourConfig(c: Case): unknown {
  return {
    tunnel: { name: 'xsipsec0', address: '10.1.0.1/16', routes: ['10.2.0.0/16'] },
    localAddresses: ['192.0.2.1'],
    ike: { retransmit_timeout: 1, retransmit_tries: 3, retransmit_base: 1.5, ...c.daemon },
    connections: {
      hq: {
        local_addrs: '192.0.2.1',
        remote_addrs: c.initiator === 'us' ? '192.0.2.2' : '%any',
        proposals: [c.ike],
        keyingtries: 0,
        rand_time: '0s',
        local: { auth: 'psk', id: '@sensor.example.com' },
        remote: { auth: 'psk', id: '@hq.example.com' },
        ...c.ours,
        children: {
          net: {
            local_ts: '10.1.0.0/16', remote_ts: '10.2.0.0/16', esp_proposals: [c.esp], rand_time: '0s',
            start_action: c.initiator === 'us' ? 'start' : 'none', ...c.ourChild,
          },
        },
      },
    },
    secrets: { ike: [{ id: ['@sensor.example.com', '@hq.example.com'], secret: PSK }] },
    logging: { default: 1, ike: 2, chd: 2, cfg: 2 },
  };
}


/** shell: a configuration document written to FILE */
export const writeOurs = (document: unknown, file: string) => `cat > ${file} <<'XS_EOF'\n${JSON.stringify(document, null, 1)}\nXS_EOF`;
/** shell: our simulator's status (JSON) from its control socket in namespace $A */
export const ourStatus = `ip netns exec $A node ${REPO}/bin/xs-ipsec.js status`;
/** shell: stops our simulator and waits until its sockets are free */
export const stopOurs = 'kill $(cat /tmp/$A.pid) 2>/dev/null; i=0; while kill -0 $(cat /tmp/$A.pid) 2>/dev/null && [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done';
/** shell: waits until our simulator has a CHILD SA installed (bounded), else exits 81 with its log */
export const waitOurs = (seconds: number) => `i=0; until ${ourStatus} 2>/dev/null | grep -q '"spiIn"'; do [ $i -ge ${seconds * 5} ] && { echo "our CHILD SA not up after ${seconds} s"; cat /tmp/$A.log; exit 81; }; sleep 0.2; i=$((i+1)); done`;
