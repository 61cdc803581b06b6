/**
 * strongswan.conf for one charon (5.9.8) in a network namespace of this machine, shared by
 * `xs-ipsec demo` (scripts/demo.mjs) and the tunnel bench (bench/tunnel.mjs); the tests have
 * a richer generator (test/interop/swan.ts).
 *
 * Everything that would clash between charons on one machine points into `dir`: the log, the
 * vici socket (charon's, and the one swanctl connects to); /run is a private bind mount per
 * charon, because charon always writes /var/run/charon.pid.
 * `load` replaces the default plugin list: kernel-libipsec (userspace ESP: this kernel has no
 * ESP in XFRM) must come BEFORE kernel-netlink, or installing the CHILD_SA fails with "Function
 * not implemented (38)"; kernel-netlink is still needed, for routes and addresses. openssl
 * provides AES-GCM (AES-NI), curve25519 X25519. flush_line: the log is complete when a failure
 * prints its tail. Options: `logName` (the filelog section's name), `level` (of every
 * subsystem, default 1), `extra` (more settings in the charon section, e.g. the handshake
 * bench's limits).
 */
export const strongswanConf = (dir, { logName = 'charon', level = 1, extra = '' } = {}) => `charon {
  load = random nonce openssl curve25519 sha2 hmac kdf pem pkcs1 pubkey x509 kernel-libipsec kernel-netlink socket-default vici
${extra}
  filelog {
    ${logName} {
      path = ${dir}/charon.log
      flush_line = yes
      default = ${level}
    }
  }
  plugins {
    vici {
      socket = unix://${dir}/charon.vici
    }
  }
}
swanctl {
  socket = unix://${dir}/charon.vici
}
`;
