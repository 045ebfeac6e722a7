import {
  ActionIcon,
  Button,
  Card,
  Group,
  NumberInput,
  Select,
  Stack,
  Switch,
  Text,
  Title,
} from "@mantine/core";
import type { UseFormReturnType } from "@mantine/form";
import { t } from "../../i18n/index.js";
import { IconPlus, IconTrash } from "../../ui/icons.js";
import type { IntegrationFormValues } from "./integration-form.js";
import {
  DEFAULT_SCHEDULE_SECONDS,
  DELAY_UNITS,
  type DelayUnit,
  delayRow,
  describeSchedule,
} from "./status-query-form.js";

/**
 * The integration's API-3 status query: on or off (off by default), the schedule as a list of
 * waits with their units, the default shown and one click away, and the query's timeout.
 */
export function StatusQueryCard(props: {
  form: UseFormReturnType<IntegrationFormValues>;
  readOnly: boolean;
}) {
  const { form, readOnly } = props;
  const rows = form.values.statusQuerySchedule;
  const scheduleError = form.errors.statusQuerySchedule;
  return (
    <Card data-testid="status-query">
      <Title order={4}>{t("statusQuery.title")}</Title>
      <Text size="sm" c="dimmed" mb="sm">
        {t("statusQuery.hint")}
      </Text>
      <Stack gap="sm">
        <Switch
          label={t("statusQuery.enabled")}
          disabled={readOnly}
          {...form.getInputProps("statusQueryEnabled", { type: "checkbox" })}
        />
        <Stack gap={4}>
          <Text size="sm" fw={500}>
            {t("statusQuery.schedule")}
          </Text>
          <Text size="xs" c="dimmed">
            {t("statusQuery.scheduleHint")}{" "}
            {t("statusQuery.default", { schedule: describeSchedule(DEFAULT_SCHEDULE_SECONDS) })}
          </Text>
          {rows.map((r, i) => (
            <Group key={r.uid} gap="xs" align="flex-start" wrap="nowrap" data-testid="status-query-step">
              <Text size="sm" w={72} mt={6} c="dimmed">
                {t("statusQuery.step", { n: i + 1 })}
              </Text>
              <NumberInput
                aria-label={t("statusQuery.step", { n: i + 1 })}
                w={110}
                min={1}
                allowDecimal={false}
                readOnly={readOnly}
                {...form.getInputProps(`statusQuerySchedule.${i}.value`)}
              />
              <Select
                aria-label={t("statusQuery.unit")}
                w={130}
                data={DELAY_UNITS.map((u) => ({ value: u, label: t(`statusQuery.unit.${u}`) }))}
                allowDeselect={false}
                readOnly={readOnly}
                value={r.unit}
                onChange={(v) => v && form.setFieldValue(`statusQuerySchedule.${i}.unit`, v as DelayUnit)}
              />
              {readOnly ? null : (
                <ActionIcon
                  variant="subtle"
                  color="red"
                  mt={4}
                  aria-label={t("statusQuery.removeStep", { n: i + 1 })}
                  disabled={rows.length <= 1}
                  onClick={() => form.removeListItem("statusQuerySchedule", i)}
                >
                  <IconTrash size={16} />
                </ActionIcon>
              )}
            </Group>
          ))}
          {typeof scheduleError === "string" ? (
            <Text size="xs" c="red">
              {scheduleError}
            </Text>
          ) : null}
          {readOnly ? null : (
            <Group gap="xs">
              <Button
                size="compact-sm"
                variant="light"
                leftSection={<IconPlus size={14} />}
                onClick={() => form.insertListItem("statusQuerySchedule", delayRow(300))}
              >
                {t("statusQuery.addStep")}
              </Button>
              <Button
                size="compact-sm"
                variant="subtle"
                onClick={() =>
                  form.setFieldValue("statusQuerySchedule", DEFAULT_SCHEDULE_SECONDS.map(delayRow))
                }
              >
                {t("statusQuery.useDefault")}
              </Button>
            </Group>
          )}
        </Stack>
        <NumberInput
          label={t("statusQuery.timeout")}
          w={200}
          min={1}
          max={60}
          allowDecimal={false}
          suffix=" s"
          readOnly={readOnly}
          {...form.getInputProps("statusQueryTimeoutSeconds")}
        />
      </Stack>
    </Card>
  );
}
