import { Select, type SelectProps } from "@mantine/core";
import { COUNTRY_CODES, isCountryCode } from "@psphub/protocol";
import { useMemo } from "react";
import { locale, t } from "../i18n/index.js";

/** A country's name in the reader's language, from the browser (no name list to ship). */
export function countryName(code: string): string {
  try {
    return new Intl.DisplayNames([locale(), "en"], { type: "region" }).of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

/** How a stored nationality reads: the name and code, or a code that is no country, marked. */
export function nationalityText(code: string | null): string {
  if (!code) return "—";
  return isCountryCode(code)
    ? `${countryName(code)} (${code.toUpperCase()})`
    : t("clients.unknownCountry", { code });
}

/**
 * Nationality as an ISO 3166-1 alpha-2 code, picked by country name (typing "Spain" finds es).
 * A stored code that is no country stays visible as an option, so the form shows what is there.
 */
export function CountrySelect(
  props: Omit<SelectProps, "data" | "value" | "onChange"> & {
    value?: string;
    onChange?: (v: string) => void;
  },
) {
  const { value = "", onChange, ...rest } = props;
  const data = useMemo(() => {
    const items = COUNTRY_CODES.map((code) => ({
      value: code,
      label: `${countryName(code)} (${code.toUpperCase()})`,
    }));
    items.sort((a, b) => a.label.localeCompare(b.label, locale()));
    if (value && !isCountryCode(value))
      items.unshift({ value, label: t("clients.unknownCountry", { code: value }) });
    return items;
  }, [value]);
  return (
    <Select
      {...rest}
      data={data}
      value={value || null}
      onChange={(v) => onChange?.(v ?? "")}
      searchable
      clearable
      nothingFoundMessage={t("clients.noCountry")}
    />
  );
}
