import {
  ActionIcon,
  Button,
  Checkbox,
  Group,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  TagsInput,
  Text,
  TextInput,
} from "@mantine/core";
import type { UseFormReturnType } from "@mantine/form";
import { t } from "../../i18n/index.js";
import { IconArrowDown, IconArrowUp, IconPlus, IconTrash } from "../../ui/icons.js";
import { monoInput } from "../../ui/theme.js";
import {
  CUSTOM_PARAM_TYPES,
  effectiveCustomKeys,
  type IntegrationFormValues,
  newCustomRow,
  paramConfigInput,
} from "./integration-form.js";

/**
 * Custom (additional) API-1 parameters: each has a key (blank = next custom_<n>), the label
 * the client sees, a type, options for `select`, and whether it is required. Rows reorder
 * with the arrows; the order is the order on the deposit form.
 */
export function CustomParamsEditor(props: {
  form: UseFormReturnType<IntegrationFormValues>;
  readOnly: boolean;
}) {
  const { form, readOnly } = props;
  const rows = form.values.customParams;
  const autoKeys = effectiveCustomKeys(paramConfigInput(form.values.paramConfig), rows);

  return (
    <Stack gap="sm" data-testid="custom-params">
      {rows.length === 0 ? (
        <Text c="dimmed" size="sm">
          {t("integrations.custom.none")}
        </Text>
      ) : null}
      {rows.map((row, i) => (
        <Paper key={row.uid} withBorder p="sm" data-testid={`custom-param-${i}`}>
          <Group justify="space-between" mb="xs" wrap="nowrap">
            <Text size="sm" fw={600}>
              {t("integrations.custom.rowTitle", { n: i + 1 })}
            </Text>
            {readOnly ? null : (
              <Group gap={4} wrap="nowrap">
                <ActionIcon
                  variant="subtle"
                  color="gray"
                  disabled={i === 0}
                  onClick={() => form.reorderListItem("customParams", { from: i, to: i - 1 })}
                  aria-label={t("integrations.custom.moveUp", { n: i + 1 })}
                >
                  <IconArrowUp size={16} />
                </ActionIcon>
                <ActionIcon
                  variant="subtle"
                  color="gray"
                  disabled={i === rows.length - 1}
                  onClick={() => form.reorderListItem("customParams", { from: i, to: i + 1 })}
                  aria-label={t("integrations.custom.moveDown", { n: i + 1 })}
                >
                  <IconArrowDown size={16} />
                </ActionIcon>
                <ActionIcon
                  variant="subtle"
                  color="red"
                  onClick={() => form.removeListItem("customParams", i)}
                  aria-label={t("integrations.custom.remove", { n: i + 1 })}
                >
                  <IconTrash size={16} />
                </ActionIcon>
              </Group>
            )}
          </Group>
          <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="sm">
            <TextInput
              label={t("integrations.custom.key")}
              placeholder={autoKeys[i]}
              description={
                row.key.trim() ? undefined : t("integrations.custom.autoKey", { key: autoKeys[i] ?? "" })
              }
              styles={monoInput}
              readOnly={readOnly}
              {...form.getInputProps(`customParams.${i}.key`)}
            />
            <TextInput
              label={t("integrations.custom.label")}
              withAsterisk
              readOnly={readOnly}
              {...form.getInputProps(`customParams.${i}.label`)}
            />
            <Select
              label={t("integrations.custom.type")}
              data={CUSTOM_PARAM_TYPES.map((v) => ({ value: v, label: t(`paramType.${v}`) }))}
              allowDeselect={false}
              readOnly={readOnly}
              {...form.getInputProps(`customParams.${i}.type`)}
            />
          </SimpleGrid>
          {row.type === "select" ? (
            <TagsInput
              mt="sm"
              label={t("integrations.custom.options")}
              description={t("integrations.custom.optionsHint")}
              readOnly={readOnly}
              {...form.getInputProps(`customParams.${i}.options`)}
            />
          ) : null}
          <Checkbox
            mt="sm"
            label={t("integrations.custom.required")}
            disabled={readOnly}
            {...form.getInputProps(`customParams.${i}.required`, { type: "checkbox" })}
          />
        </Paper>
      ))}
      {readOnly ? null : (
        <Group>
          <Button
            variant="light"
            leftSection={<IconPlus size={16} />}
            onClick={() => form.insertListItem("customParams", newCustomRow())}
          >
            {t("integrations.custom.add")}
          </Button>
        </Group>
      )}
    </Stack>
  );
}
