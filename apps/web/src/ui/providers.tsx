import "@mantine/core/styles.css";
import "@mantine/notifications/styles.css";
import "./global.css";
import { MantineProvider } from "@mantine/core";
import { ModalsProvider } from "@mantine/modals";
import { Notifications } from "@mantine/notifications";
import { type ReactNode, StrictMode } from "react";
import { t } from "../i18n/index.js";
import { cssVariablesResolver, theme } from "./theme.js";

export function Providers({ children }: { children: ReactNode }) {
  return (
    <StrictMode>
      <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver} defaultColorScheme="light">
        <ModalsProvider labels={{ confirm: t("common.confirm"), cancel: t("common.cancel") }}>
          <Notifications position="top-right" limit={4} />
          {children}
        </ModalsProvider>
      </MantineProvider>
    </StrictMode>
  );
}
