/**
 * Connects the IKEv2 engine (src/ike/engine.ts) to a Host (src/host.ts) and the gateway's data
 * path: what the engine sends goes out through the host's IKE or NAT-T socket (the host adds
 * the non-ESP marker on the NAT-T port, RFC 3948 §2.2), NAT-T keepalives are one 0xFF byte
 * from the NAT-T port (RFC 3948 §2.3), and the CHILD SAs it negotiates are installed in the
 * PF_KEY engine and SPD the gateway reads. The same on the ESP32 and in the simulator.
 */
import type { GatewayConfig } from './config/gateway-config.js';
import type { Crypto } from './crypto/provider.js';
import type { Host } from './host.js';
import { IkeEngine } from './ike/engine.js';
import { KeyLog, type KeyLogSink } from './ike/keylog.js';
import type { Logger } from './log.js';
import type { PfKeyEngine } from './policy/pfkey-engine.js';
import type { Spd } from './policy/spd.js';
import { NAT_KEEPALIVE } from './wire/udp.js';

export interface IkeHostOptions {
  host: Host;
  config: GatewayConfig;
  crypto: Crypto;
  pfkey: PfKeyEngine;
  spd: Spd;
  log: Logger;
  /** where decryption-table lines go when `logging.keylog` is on */
  keylog?: KeyLogSink;
}

/** An IKE engine speaking through `host`, with the daemon settings of the configuration's `ike` section. */
export function createIkeEngine(o: IkeHostOptions): IkeEngine {
  const { host, config } = o;
  const d = config.ike;
  return new IkeEngine({
    crypto: o.crypto,
    config,
    pfkey: o.pfkey,
    spd: o.spd,
    log: o.log,
    keylog: o.keylog ? KeyLog.create(config.logging, o.keylog) : null,
    localAddresses: config.localAddresses,
    ports: { ike: d.port, natT: d.port_nat_t },
    fragmentSize: d.fragment_size,
    retransmit: { timeout: d.retransmit_timeout * 1000, base: d.retransmit_base, tries: d.retransmit_tries },
    cookies: { threshold: d.cookie_threshold, hardLimit: Math.max(d.init_limit_half_open, d.cookie_threshold, 1) },
    send: (localPort, remote, bytes) => {
      host.sendIke(localPort, remote.address, remote.port, bytes);
    },
    keepalive: (remote) => {
      host.sendUdp(remote.address, remote.port, NAT_KEEPALIVE, 0, NAT_KEEPALIVE.length);
    },
    now: () => host.now(),
  });
}
