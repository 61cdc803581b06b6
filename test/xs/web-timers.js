// setTimeout/clearTimeout for libraries bundled for the XS test host (fast-check captures them
// at load time), over the Moddable timer module, as Moddable's own "setinterval" module does.
import Timer from 'timer';
export function setTimeout(callback, ms = 0, ...args) {
  return Timer.set(() => callback(...args), ms);
}
export function clearTimeout(timer) {
  if (timer) Timer.clear(timer);
}
