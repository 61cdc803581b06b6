/*
 * The simulator's tunnel interface over a Linux TUN device (native part: hosts/lin/tun.c),
 * the stand-in for the device's lwIP netif. callback(2, byteCount) per packet routed into it;
 * inside the callback, read(buffer, offset) copies the packet into your buffer (no allocation)
 * and returns its length; write(buffer, offset, length) delivers a packet to the host.
 */
function open(name, target) @ "xs_lin_tun_open";
function tunName(handle) @ "xs_lin_tun_name";
function tunRead(handle, buffer, offset) @ "xs_lin_tun_read";
function tunWrite(handle, buffer, offset, length) @ "xs_lin_tun_write";
function tunClose(handle) @ "xs_lin_tun_close";

export class Tun {
  #handle;
  #name;
  constructor(options) {
    this.#handle = open(options?.name ?? "xsipsec%d", this);
    this.#name = tunName(this.#handle);
  }
  /** the interface's name (the kernel fills in a "%d" pattern) */
  get name() {
    return this.#name;
  }
  callback() {}
  read(buffer, offset = 0) {
    return tunRead(this.#handle, buffer, offset);
  }
  write(buffer, offset = 0, length = buffer.byteLength - offset) {
    return tunWrite(this.#handle, buffer, offset, length);
  }
  close() {
    tunClose(this.#handle);
  }
}

export default Tun;
