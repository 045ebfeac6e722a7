import { Button, Stack, Text, Title } from "@mantine/core";
import { Link } from "react-router";
import { t } from "../../i18n/index.js";

export function NotFoundPage() {
  return (
    <Stack align="flex-start">
      <Title order={2}>{t("notFound.title")}</Title>
      <Text c="dimmed">{t("notFound.text")}</Text>
      <Button component={Link} to="/" variant="light">
        {t("notFound.home")}
      </Button>
    </Stack>
  );
}
