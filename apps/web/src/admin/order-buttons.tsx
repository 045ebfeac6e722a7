import { ActionIcon, Group } from "@mantine/core";
import { t } from "../i18n/index.js";
import { IconArrowDown, IconArrowUp } from "../ui/icons.js";

/** The new order of `ids` with the one at `index` moved by `delta` (pure). */
export function moved(ids: readonly string[], index: number, delta: -1 | 1): string[] {
  const out = [...ids];
  const [id] = out.splice(index, 1);
  out.splice(index + delta, 0, id!);
  return out;
}

/** Up and down buttons of a method list's display order (deposit and withdrawal methods). */
export function OrderButtons(p: {
  name: string;
  index: number;
  count: number;
  disabled: boolean;
  onMove: (delta: -1 | 1) => void;
}) {
  return (
    <Group gap={2} wrap="nowrap">
      <ActionIcon
        variant="subtle"
        color="gray"
        disabled={p.disabled || p.index === 0}
        onClick={() => p.onMove(-1)}
        aria-label={t("methods.moveUp", { name: p.name })}
      >
        <IconArrowUp size={16} />
      </ActionIcon>
      <ActionIcon
        variant="subtle"
        color="gray"
        disabled={p.disabled || p.index === p.count - 1}
        onClick={() => p.onMove(1)}
        aria-label={t("methods.moveDown", { name: p.name })}
      >
        <IconArrowDown size={16} />
      </ActionIcon>
    </Group>
  );
}
