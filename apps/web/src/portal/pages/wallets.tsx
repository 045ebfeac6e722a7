import { Button, Card, Group, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { Link } from "react-router";
import { t } from "../../i18n/index.js";
import { money } from "../../lib/money.js";
import { useQuery } from "../../lib/use-api-query.js";
import { ErrorAlert, PageLoader } from "../../ui/feedback.js";
import { api } from "../api.js";
import { RecentDeposits } from "./history.js";
import { HeldLine } from "./withdraw.js";

export function WalletsPage() {
  const q = useQuery(() => api.GET("/api/portal/wallets"), []);
  if (q.loading && !q.data) return <PageLoader />;
  const items = q.data?.items ?? [];
  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={2}>{t("wallets.title")}</Title>
        <Group gap="xs">
          <Button component={Link} to="/withdraw" variant="default">
            {t("wallets.withdraw")}
          </Button>
          <Button component={Link} to="/deposit">
            {t("wallets.deposit")}
          </Button>
        </Group>
      </Group>
      <ErrorAlert error={q.error} />
      {items.length === 0 && q.data ? (
        <Card>
          <Text c="dimmed">{t("wallets.empty")}</Text>
        </Card>
      ) : (
        <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="sm" data-testid="wallets">
          {items.map((w) => (
            <Card key={w.currency} data-currency={w.currency}>
              <Text size="sm" c="dimmed" fw={600}>
                {t("wallets.walletOf", { currency: w.currency })}
              </Text>
              <Text size="xl" fw={700} className="num" data-testid={`balance-${w.currency}`}>
                {money(w.balance, w.currency)}
              </Text>
              <HeldLine w={w} />
            </Card>
          ))}
        </SimpleGrid>
      )}
      <Title order={4} mt="sm">
        {t("wallets.recent")}
      </Title>
      <RecentDeposits limit={5} />
    </Stack>
  );
}
