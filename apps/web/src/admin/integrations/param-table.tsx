import { Badge, Group, Switch, Table, Text, TextInput, Tooltip } from "@mantine/core";
import type { UseFormReturnType } from "@mantine/form";
import { API1_PARAM_NAMES, API1_PARAMS } from "@psphub/protocol/admin";
import { t } from "../../i18n/index.js";
import { IconLock } from "../../ui/icons.js";
import { monoInput } from "../../ui/theme.js";
import type { IntegrationFormValues } from "./integration-form.js";

/**
 * The API-1 parameter table: one row per standard parameter with its key (editable) and
 * whether it is sent. The four mandatory parameters can be renamed but are locked on.
 */
export function ParamTable(props: { form: UseFormReturnType<IntegrationFormValues>; readOnly: boolean }) {
  const { form, readOnly } = props;
  return (
    <Table verticalSpacing={6} data-testid="param-table" miw={520}>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>{t("integrations.params.parameter")}</Table.Th>
          <Table.Th>{t("integrations.params.key")}</Table.Th>
          <Table.Th w={90}>{t("integrations.params.sent")}</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {API1_PARAM_NAMES.map((name) => {
          const spec = API1_PARAMS[name];
          return (
            <Table.Tr key={name} data-param={name}>
              <Table.Td>
                <Group gap={6} wrap="nowrap">
                  <Text size="sm" ff="monospace">
                    {name}
                  </Text>
                  {spec.mandatory ? (
                    <Tooltip label={t("integrations.params.mandatoryHint")}>
                      <Badge
                        size="xs"
                        variant="light"
                        color="gray"
                        leftSection={<IconLock size={10} />}
                        aria-label={t("integrations.params.mandatory")}
                      >
                        {t("integrations.params.mandatory")}
                      </Badge>
                    </Tooltip>
                  ) : null}
                </Group>
                <Text size="xs" c="dimmed">
                  {t(`api1.${name}`)} · {spec.type}
                </Text>
              </Table.Td>
              <Table.Td>
                <TextInput
                  size="xs"
                  aria-label={t("integrations.params.keyAria", { name })}
                  readOnly={readOnly}
                  styles={monoInput}
                  {...form.getInputProps(`paramConfig.${name}.key`)}
                />
              </Table.Td>
              <Table.Td>
                <Switch
                  aria-label={t("integrations.params.sentAria", { name })}
                  disabled={readOnly || spec.mandatory}
                  {...form.getInputProps(`paramConfig.${name}.enabled`, { type: "checkbox" })}
                />
              </Table.Td>
            </Table.Tr>
          );
        })}
      </Table.Tbody>
    </Table>
  );
}
