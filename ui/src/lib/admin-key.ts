/** Where the admin key lives while the tab is open: sessionStorage, so closing the tab signs out
 * and no other tab or later visit finds it. */
export interface AdminKeyStore {
  read(): string | null;
  save(key: string): void;
  clear(): void;
}

export const ADMIN_KEY_ITEM = "429chain.adminKey";

export function sessionKeyStore(storage: Storage = window.sessionStorage): AdminKeyStore {
  return {
    read: () => storage.getItem(ADMIN_KEY_ITEM),
    save: (key) => {
      storage.setItem(ADMIN_KEY_ITEM, key);
    },
    clear: () => {
      storage.removeItem(ADMIN_KEY_ITEM);
    },
  };
}
