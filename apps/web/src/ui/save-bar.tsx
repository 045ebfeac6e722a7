import { Alert, Box, Button, Group } from "@mantine/core";
import type { ReactNode } from "react";
import { Link } from "react-router";
import { t } from "../i18n/index.js";
import { ApiError } from "../lib/api.js";
import { notifyError } from "./feedback.js";

/**
 * A settings form's sticky bar at the foot of the page: the form's error (if any) on the left,
 * Cancel (a link back to `cancelTo`) and the submit button on the right.
 */
export function SaveBar(props: {
  formError: ReactNode;
  cancelTo: string;
  saving: boolean;
  submitLabel: ReactNode;
}) {
  return (
    <Box
      mt="md"
      p="sm"
      style={{
        position: "sticky",
        bottom: 0,
        background: "var(--mantine-color-body)",
        borderTop: "1px solid var(--mantine-color-gray-3)",
        zIndex: 5,
      }}
    >
      <Group justify="space-between">
        <Box>
          {props.formError ? (
            <Alert color="red" variant="light" p="xs" role="alert" data-testid="form-error">
              {props.formError}
            </Alert>
          ) : null}
        </Box>
        <Group>
          <Button variant="default" component={Link} to={props.cancelTo}>
            {t("common.cancel")}
          </Button>
          <Button type="submit" loading={props.saving}>
            {props.submitLabel}
          </Button>
        </Group>
      </Group>
    </Box>
  );
}

/**
 * A failed save, shown: the server's field issues set on the form (each path without its
 * `body.` prefix, mapped to the form's own by `toFormPath`) with its message in the save bar;
 * any other error as a notification.
 */
export function showSaveError(
  err: unknown,
  form: { setErrors: (errors: Record<string, string>) => void },
  setFormError: (message: string) => void,
  toFormPath: (path: string) => string = (path) => path,
): void {
  if (err instanceof ApiError && err.issues.length) {
    const errors: Record<string, string> = {};
    for (const i of err.issues) errors[toFormPath(i.path.replace(/^body\.?/, ""))] = i.message;
    form.setErrors(errors);
    setFormError(err.message);
  } else {
    notifyError(err);
  }
}
