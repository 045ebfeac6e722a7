import { Code, Text } from "@mantine/core";
import { useState } from "react";
import { dateTimeSeconds } from "../../lib/format.js";
import { useQuery } from "../../lib/use-api-query.js";
import { type Column, DataTable, serverPaged } from "../../ui/data-table.js";
import { ErrorAlert } from "../../ui/feedback.js";
import { PageHeader } from "../../ui/page-header.js";
import { api } from "../api.js";
import type { OperatorAuditRecord } from "../types.js";

const PAGE = 25;
const ACTIONS: Record<string, string> = {
  "tenant.create": "Company created",
  "tenant.suspend": "Company suspended",
  "tenant.resume": "Company resumed",
};

export function OperatorAuditPage() {
  const [page, setPage] = useState(1);
  const q = useQuery(
    () => api.GET("/api/platform/audit", { params: { query: { limit: PAGE, offset: (page - 1) * PAGE } } }),
    [page],
  );
  const columns: Column<OperatorAuditRecord>[] = [
    { key: "at", header: "When", render: (r) => dateTimeSeconds(r.createdAt), width: 170 },
    { key: "who", header: "Operator", render: (r) => r.operator.name ?? r.operator.id ?? "—" },
    { key: "action", header: "Action", render: (r) => ACTIONS[r.action] ?? r.action },
    { key: "tenant", header: "Company", render: (r) => r.tenant.name ?? r.tenant.id },
    {
      key: "detail",
      header: "Detail",
      render: (r) =>
        r.after ? (
          <Code block style={{ whiteSpace: "pre-wrap" }}>
            {JSON.stringify(r.after)}
          </Code>
        ) : (
          <Text size="sm" c="dimmed">
            —
          </Text>
        ),
    },
  ];
  return (
    <>
      <PageHeader
        title="Audit trail"
        description="Everything platform operators did. Each record is also in the company's own audit log."
      />
      <ErrorAlert error={q.error} />
      <DataTable
        columns={columns}
        rowKey={(r) => r.id}
        {...serverPaged(q, page, PAGE, setPage)}
        empty="No operator action yet."
        testId="operator-audit-table"
      />
    </>
  );
}
