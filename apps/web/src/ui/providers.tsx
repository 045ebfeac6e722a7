import "@mantine/core/styles.css";
import "@mantine/notifications/styles.css";
import "./global.css";
import { DirectionProvider, MantineProvider } from "@mantine/core";
import { ModalsProvider } from "@mantine/modals";
import { Notifications } from "@mantine/notifications";
import { Fragment, type ReactNode, StrictMode, useState } from "react";
import { configureLocales, localeInfo, t, useLocale } from "../i18n/index.js";
import type { LocaleTag } from "../i18n/locales.js";
import { cssVariablesResolver, theme } from "./theme.js";

/**
 * What both apps run inside. `locales` are the languages the app offers (the back office: English
 * only; the portal: all). A change of language re-mounts the app below, so every text, date and
 * amount is drawn again in the new language (t() is a plain function, not a hook); Mantine's
 * DirectionProvider follows `<html dir>`, which the language store sets.
 */
export function Providers({
  children,
  locales = ["en"],
}: {
  children: ReactNode;
  locales?: readonly LocaleTag[];
}) {
  useState(() => configureLocales(locales));
  const tag = useLocale();
  const { dir } = localeInfo();
  return (
    <StrictMode>
      <DirectionProvider initialDirection={dir}>
        <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver} defaultColorScheme="light">
          <ModalsProvider labels={{ confirm: t("common.confirm"), cancel: t("common.cancel") }}>
            <Notifications position={dir === "rtl" ? "top-left" : "top-right"} limit={4} />
            <Fragment key={tag}>{children}</Fragment>
          </ModalsProvider>
        </MantineProvider>
      </DirectionProvider>
    </StrictMode>
  );
}
