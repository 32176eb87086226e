{
  "targets": [
    {
      "target_name": "chainlog_native",
      "sources": ["src/chainlog_native.c", "src/link.c", "src/spans.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O2"] }
    }
  ]
}
