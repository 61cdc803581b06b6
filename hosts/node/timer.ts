/**
 * The Moddable `timer` module's API on Node (setTimeout underneath), so code written for the
 * device runs unchanged in Node tests and tools: Timer.set/repeat/schedule/clear/delay, and
 * the callback receives its timer.
 */
export type TimerCallback = (timer: NodeTimer) => void;

export class NodeTimer {
  #handle: ReturnType<typeof setTimeout> | undefined;
  #callback: TimerCallback;

  private constructor(callback: TimerCallback) {
    this.#callback = callback;
  }

  #arm(delay: number, repeat: number): void {
    this.#disarm();
    this.#handle = setTimeout(() => {
      if (repeat > 0) this.#arm(repeat, repeat);
      else this.#handle = undefined;
      this.#callback(this);
    }, Math.max(0, delay));
  }

  #disarm(): void {
    if (this.#handle !== undefined) clearTimeout(this.#handle);
    this.#handle = undefined;
  }

  static set(callback: TimerCallback, delay = 0, repeat = 0): NodeTimer {
    const timer = new NodeTimer(callback);
    timer.#arm(delay, repeat);
    return timer;
  }

  static repeat(callback: TimerCallback, interval: number): NodeTimer {
    return NodeTimer.set(callback, interval, interval);
  }

  static schedule(timer: NodeTimer, delay = 0, repeat = 0): void {
    timer.#arm(delay, repeat);
  }

  static clear(timer: NodeTimer | undefined | null): void {
    if (timer) timer.#disarm();
  }

  /** Blocks, as on the device (Atomics.wait on a private buffer). */
  static delay(ms: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  }
}

export default NodeTimer;
