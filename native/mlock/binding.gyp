{
  "targets": [
    {
      "target_name": "ganeti_mlock",
      "sources": ["mlock.cc"],
      "cflags_cc": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
