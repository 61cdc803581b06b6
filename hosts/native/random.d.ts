declare module 'random' {
  /** Fills the buffer with bytes from the host's CSPRNG. */
  export function fillRandom(buffer: ArrayBuffer | ArrayBufferView): void;
}
