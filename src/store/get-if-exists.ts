import { NotFoundError } from './errors.js';
import { isNotModified, type Store, type StoredObject } from './store.js';

/**
 * One unconditional GET that treats a missing key as an answer, not an
 * error: the shape of every "read it back and look" in the protocol.
 */
export async function getIfExists(store: Pick<Store, 'get'>, key: string): Promise<StoredObject | undefined> {
  let got;
  try {
    got = await store.get(key);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
  if (isNotModified(got)) throw new Error(`store answered NotModified to an unconditional get of ${key}`);
  return got;
}
