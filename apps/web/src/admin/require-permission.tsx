import { Alert, Button, Stack, Title } from "@mantine/core";
import type { ReactNode } from "react";
import { Link } from "react-router";
import { t } from "../i18n/index.js";
import type { Permission } from "./permissions.js";
import { useStaff } from "./use-staff.js";

/**
 * A page the role may not see (typed in, or an old bookmark): a plain notice instead of the
 * page, so nothing is requested only to be refused. The menu hides these links already, and
 * the server refuses the requests anyway.
 */
export function RequirePermission({ perm, children }: { perm: Permission; children: ReactNode }) {
  const { can } = useStaff();
  if (can(perm)) return children;
  return (
    <Stack align="flex-start" data-testid="forbidden-page">
      <Title order={2}>{t("forbidden.title")}</Title>
      <Alert color="gray" variant="light">
        {t("error.forbidden")}
      </Alert>
      <Button component={Link} to="/" variant="light">
        {t("notFound.home")}
      </Button>
    </Stack>
  );
}
