import { describe, expect, it } from "vitest";
import {
  DEFAULT_PORT,
  loadSimConfig,
  readIntegrationsFile,
  readParamConfigFile,
  SimConfigError,
  USAGE,
} from "./config.js";

const required = ["--callback-url", "http://127.0.0.1:3000/api/psp", "--token", "tk"];

describe("loadSimConfig", () => {
  it("reads flags, with defaults for the rest", () => {
    expect(loadSimConfig(required, {})).toEqual({
      callbackUrl: "http://127.0.0.1:3000/api/psp",
      token: "tk",
      port: DEFAULT_PORT,
      host: "127.0.0.1",
    });
  });

  it("reads the environment, and flags win over it", () => {
    const env = {
      PSP_SIM_CALLBACK_URL: "https://crm.example.com/api/psp",
      PSP_SIM_TOKEN: "env-token",
      PSP_SIM_PREVIOUS_TOKEN: "old",
      PSP_SIM_PORT: "4200",
      PSP_SIM_PUBLIC_URL: "https://sim.example.com/",
    };
    expect(loadSimConfig([], env)).toEqual({
      callbackUrl: "https://crm.example.com/api/psp",
      token: "env-token",
      previousToken: "old",
      port: 4200,
      host: "127.0.0.1",
      publicUrl: "https://sim.example.com",
    });
    expect(loadSimConfig(["--port", "0", "--token", "flag-token"], env)).toMatchObject({
      port: 0,
      token: "flag-token",
    });
  });

  it("answers help", () => {
    expect(loadSimConfig(["--help"], {})).toBe("help");
    expect(USAGE).toContain("--callback-url");
  });

  it("names the flag in every error", () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /--callback-url .*is required/],
      [["--callback-url", "http://x/api/psp"], /--token .*is required/],
      [["--callback-url", "not a url", "--token", "t"], /--callback-url: .*not an absolute URL/],
      [[...required, "--port", "70000"], /--port must be an integer from 0 to 65535/],
      [[...required, "--port", "abc"], /--port/],
      [[...required, "--public-url", "ftp://x"], /--public-url/],
      [[...required, "--callback-deadline-seconds", "-1"], /--callback-deadline-seconds|-1/],
      [[...required, "--bogus"], /Unknown option '--bogus'/],
      [[...required, "extra"], /Unexpected argument 'extra'/],
    ];
    for (const [argv, message] of cases) {
      expect(() => loadSimConfig(argv, {})).toThrow(SimConfigError);
      expect(() => loadSimConfig(argv, {})).toThrow(message);
    }
  });

  it("reads a parameter config file", () => {
    const files: Record<string, string> = {
      "full.json": JSON.stringify({
        paramConfig: { order_no: { key: "orderId" }, email: { enabled: false } },
        customKeys: ["custom_1"],
        currencyExponents: { USDT: 6 },
      }),
      "bare.json": JSON.stringify({ amount: { key: "amt" } }),
    };
    const read = (path: string) => files[path]!;
    expect(loadSimConfig([...required, "--param-config", "full.json"], {}, read)).toMatchObject({
      paramConfig: { order_no: { key: "orderId" }, email: { enabled: false } },
      customKeys: ["custom_1"],
      currencyExponents: { USDT: 6 },
    });
    expect(readParamConfigFile("bare.json", read)).toEqual({ paramConfig: { amount: { key: "amt" } } });
  });

  it("refuses a parameter config file the CRM would refuse", () => {
    const bad: Record<string, string> = {
      "a.json": "not json",
      "b.json": "[]",
      "c.json": JSON.stringify({ paramConfig: { amount: { enabled: false } } }),
      "d.json": JSON.stringify({ paramConfig: { email: { key: "sign" } } }),
      "e.json": JSON.stringify({ customKeys: [1] }),
      "f.json": JSON.stringify({ currencyExponents: { USDT: 12 } }),
      "g.json": JSON.stringify({ paramConfig: { orderNo: { key: "x" } } }),
    };
    for (const path of Object.keys(bad)) {
      expect(() => readParamConfigFile(path, (p) => bad[p]!)).toThrow(SimConfigError);
    }
  });

  it("serves several integrations from a file, read again on every call", async () => {
    const files: Record<string, string> = {
      "many.json": JSON.stringify({
        integrations: [
          { merchantId: "m1", token: "t1" },
          {
            token: "t2",
            previousToken: "t2-old",
            paramConfig: { order_no: { key: "orderId" } },
            customKeys: ["custom_1"],
          },
        ],
      }),
    };
    const read = (path: string) => files[path]!;
    const url = ["--callback-url", "http://127.0.0.1:3000/api/psp"];
    const options = loadSimConfig([...url, "--integrations", "many.json"], {}, read);
    if (options === "help" || typeof options.integrations !== "function") throw new Error("no integrations");
    expect(options.token).toBeUndefined();
    expect(await options.integrations()).toEqual([
      { merchantId: "m1", token: "t1" },
      {
        token: "t2",
        previousToken: "t2-old",
        paramConfig: { order_no: { key: "orderId" } },
        customKeys: ["custom_1"],
      },
    ]);
    files["many.json"] = JSON.stringify([{ token: "t3" }]);
    expect(await options.integrations()).toEqual([{ token: "t3" }]);
    expect(loadSimConfig(url, { PSP_SIM_INTEGRATIONS: "many.json" }, read)).toMatchObject({
      port: DEFAULT_PORT,
    });
  });

  it("refuses an integrations file it cannot serve, naming the entry", () => {
    const bad: Record<string, [string, RegExp]> = {
      "a.json": ["not json", /--integrations a.json/],
      "b.json": [JSON.stringify({ integrations: {} }), /expected \{ "integrations"/],
      "c.json": [
        JSON.stringify([{ merchantId: "m" }]),
        /integrations\[0\]\.token must be a non-empty string/,
      ],
      "d.json": [
        JSON.stringify([{ token: "t" }, { token: "u", customKeys: "custom_1" }]),
        /integrations\[1\]\.customKeys/,
      ],
      "e.json": [
        JSON.stringify([{ token: "t", paramConfig: { amount: { enabled: false } } }]),
        /integrations\[0\]/,
      ],
      "f.json": [JSON.stringify([{ token: "t", modes: ["sometimes"] }]), /integrations\[0\]: unknown mode/],
      "g.json": [
        JSON.stringify([{ token: "t", modes: "slow" }]),
        /integrations\[0\]: modes must be an array/,
      ],
    };
    for (const [path, [, message]] of Object.entries(bad)) {
      const read = (p: string) => bad[p]![0];
      expect(() => readIntegrationsFile(path, read)).toThrow(message);
      expect(() =>
        loadSimConfig(["--callback-url", "http://127.0.0.1:3000/api/psp", "--integrations", path], {}, read),
      ).toThrow(SimConfigError);
    }
  });

  it("reads modes from --mode or PSP_SIM_MODE, and per integration from its file", () => {
    expect(
      loadSimConfig([...required, "--mode", "lost_callback, slow", "--slow-seconds", "30"], {}),
    ).toMatchObject({ modes: ["lost_callback", "slow"], slowMs: 30_000 });
    expect(loadSimConfig(required, { PSP_SIM_MODE: "garbage", PSP_SIM_SLOW_SECONDS: "2" })).toMatchObject({
      modes: ["garbage"],
      slowMs: 2000,
    });
    const read = () => JSON.stringify([{ token: "t", modes: ["bad_sign", "lost_callback"] }]);
    expect(readIntegrationsFile("x.json", read)).toEqual([
      { token: "t", modes: ["bad_sign", "lost_callback"] },
    ]);
    for (const [argv, message] of [
      [["--mode", "never"], /--mode: unknown mode "never"/],
      [["--mode", "garbage,bad_sign"], /--mode: at most one of not_found, garbage, bad_sign/],
      [["--slow-seconds", "1.5"], /--slow-seconds must be an integer/],
    ] as const) {
      expect(() => loadSimConfig([...required, ...argv], {})).toThrow(message);
    }
    expect(USAGE).toContain("--mode");
  });
});
