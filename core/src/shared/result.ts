/** Untrusted input returns a Result; exceptions are reserved for bugs. */
export type Ok<T> = { readonly ok: true; readonly value: T };
export type Err<E = string> = { readonly ok: false; readonly reason: E };
export type Result<T, E = string> = Ok<T> | Err<E>;

export function ok<T>(value: T): Ok<T> {
  return { ok: true, value };
}

export function err<E>(reason: E): Err<E> {
  return { ok: false, reason };
}
