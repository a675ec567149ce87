import {
  DndContext,
  KeyboardSensor,
  MeasuringStrategy,
  PointerSensor,
  closestCenter,
  useSensor,
  useSensors,
  type DragEndEvent,
} from "@dnd-kit/core";
import {
  SortableContext,
  sortableKeyboardCoordinates,
  useSortable,
  verticalListSortingStrategy,
} from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";

import type { ChainEntry } from "../../../api/chain-types";
import type { ManualLimits } from "../../../api/manual-limits";
import { entryId, limitsSummary, moveEntry } from "../chain-form-values";
import { EntryLimits } from "./entry-limits";

/** How an entry's limits are changed: `apply` puts them in place (calling `done` once they
 * are), `errors` are the API's refusals by entry index and limit. */
export interface LimitsEditing {
  apply: (index: number, limits: ManualLimits | null, done: () => void) => void;
  errors: { index: number; field: string; message: string } | null;
  pending: boolean;
}

/** Entries are measured before a drag starts, so an arrow key pressed right after Space
 * already has places to move to. */
const ALWAYS_MEASURED = { droppable: { strategy: MeasuringStrategy.Always } };

function SortableEntry({
  entry,
  position,
  onRemove,
  limits,
}: {
  entry: ChainEntry;
  position: number;
  onRemove: (() => void) | null;
  limits: LimitsEditing;
}) {
  const id = entryId(entry);
  const summary = limitsSummary(entry.rateLimits);
  const refusal = limits.errors?.index === position - 1 ? limits.errors : null;
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({ id });
  return (
    <li
      ref={setNodeRef}
      className={isDragging ? "chain-entry chain-entry-dragging" : "chain-entry"}
      style={{ transform: CSS.Transform.toString(transform), transition }}
    >
      <button
        type="button"
        className="chain-handle"
        aria-label={`Move ${id}`}
        {...attributes}
        {...listeners}
      >
        ⠿
      </button>
      <span className="chain-position">{position}.</span>
      <span>{id}</span>
      {summary !== null && <span className="chain-entry-summary">{summary}</span>}
      {onRemove !== null && (
        <button type="button" onClick={onRemove}>
          Remove {id}
        </button>
      )}
      <EntryLimits
        id={id}
        limits={entry.rateLimits}
        pending={limits.pending}
        apiErrors={refusal === null ? {} : { [refusal.field]: refusal.message }}
        onApply={(next, done) => { limits.apply(position - 1, next, done); }}
      />
    </li>
  );
}

/** A chain's entries in order, reordered by dragging a handle with the mouse or, focused, with
 * the keyboard (Space to lift, arrows to move, Space to drop, Escape to cancel). */
export function SortableEntries({
  label,
  entries,
  onReorder,
  onRemove,
  limits,
}: {
  label: string;
  entries: ChainEntry[];
  onReorder: (entries: ChainEntry[]) => void;
  onRemove: ((index: number) => void) | null;
  limits: LimitsEditing;
}) {
  const sensors = useSensors(
    useSensor(PointerSensor),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );
  const ids = entries.map(entryId);

  function dragEnd({ active, over }: DragEndEvent) {
    if (over === null || active.id === over.id) {
      return;
    }
    onReorder(moveEntry(entries, ids.indexOf(String(active.id)), ids.indexOf(String(over.id))));
  }

  return (
    <DndContext
      sensors={sensors}
      collisionDetection={closestCenter}
      measuring={ALWAYS_MEASURED}
      onDragEnd={dragEnd}
    >
      <SortableContext items={ids} strategy={verticalListSortingStrategy}>
        <ol className="chain-entries" aria-label={label}>
          {entries.map((entry, index) => (
            <SortableEntry
              key={entryId(entry)}
              entry={entry}
              position={index + 1}
              onRemove={onRemove === null ? null : () => { onRemove(index); }}
              limits={limits}
            />
          ))}
        </ol>
      </SortableContext>
    </DndContext>
  );
}
