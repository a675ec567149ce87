import type { ReactNode } from "react";

/** A box a table scrolls sideways in when it is wider than the window, instead of the page.
 * It can take the focus and is a named region, so a keyboard user can scroll it too (the arrow
 * keys) and a screen reader says what it holds. */
export function TableScroll({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-scroll" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
