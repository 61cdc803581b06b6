/*
 * Moddable-compatible `socket` module (UDP and RAW over IPv4) for the desktop host; native
 * part in hosts/lin/socket.c. As on the device: `callback(2, byteCount, address, port)` per
 * datagram, `read(ArrayBuffer)` inside the callback, `write(ip, port, data)` for UDP and
 * `write(ip, data)` for RAW (the IP header is added for you; what RAW reads starts with it).
 */
function open(kind, port, address, protocol, target) @ "xs_lin_socket_open";
function closeSocket(handle) @ "xs_lin_socket_close";
function readSocket(handle, asString) @ "xs_lin_socket_read";
function writeSocket(handle, ip, port, data) @ "xs_lin_socket_write";
function readSocketInto(handle, buffer, offset) @ "xs_lin_socket_read_into";
function writeSocketFrom(handle, ip, port, buffer, offset, length) @ "xs_lin_socket_write_from";

export class Socket {
  #handle;
  #raw;
  constructor(dictionary) {
    const kind = dictionary.kind ?? "TCP";
    this.#raw = kind === "RAW";
    this.#handle = open(kind, dictionary.port ?? 0, dictionary.address, dictionary.protocol ?? 0, this);
  }
  callback() {}
  close() {
    closeSocket(this.#handle);
  }
  read(type) {
    return readSocket(this.#handle, type === String);
  }
  /**
   * An extension of this host (not in Moddable's socket): copies the datagram being delivered
   * into `buffer` (a Uint8Array or ArrayBuffer) at `offset` and returns its length, so a
   * receiver can reuse one buffer instead of allocating one per datagram.
   */
  readInto(buffer, offset = 0) {
    return readSocketInto(this.#handle, buffer, offset);
  }
  /**
   * The matching extension for sending: buffer[offset, offset+length) as one datagram to
   * ip:port (UDP) or ip (RAW, `port` ignored).
   */
  writeFrom(ip, port, buffer, offset, length) {
    writeSocketFrom(this.#handle, ip, this.#raw ? 0 : port, buffer, offset, length);
  }
  write(ip, port, data) {
    if (this.#raw) writeSocket(this.#handle, ip, 0, port);
    else writeSocket(this.#handle, ip, port, data);
  }
}

export default Socket;
