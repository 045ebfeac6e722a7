import { Alert, Button, Code, CopyButton, Group, Stack } from "@mantine/core";
import { t } from "../i18n/index.js";

/**
 * A secret the server answers with once (an API key, a client's reset password, a rotated
 * token): what to do with it, the value and a copy button. Closing drops it from the page.
 */
export function ShownOnceSecret(props: {
  notice: string;
  value: string;
  testId: string;
  onClose: () => void;
  copyLabel?: string;
  closeLabel?: string;
}) {
  return (
    <Stack gap="sm">
      <Alert color="yellow" variant="light">
        {props.notice}
      </Alert>
      <Code block data-testid={props.testId}>
        {props.value}
      </Code>
      <Group justify="flex-end">
        <CopyButton value={props.value}>
          {({ copied, copy }) => (
            <Button variant="light" onClick={copy}>
              {copied ? t("common.copied") : (props.copyLabel ?? t("common.copy"))}
            </Button>
          )}
        </CopyButton>
        <Button onClick={props.onClose}>{props.closeLabel ?? t("common.close")}</Button>
      </Group>
    </Stack>
  );
}
