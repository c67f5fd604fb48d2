"""cc_grpc_proto_library: .proto -> C++ (+ gRPC) through the system protoc.

Bazel 4's native proto rules want @com_google_protobuf, a download. This macro
runs Debian's `protoc` and `grpc_cpp_plugin` in a genrule instead and wraps the
outputs in a cc_library. Imports are resolved relative to `import_root` (a
directory, relative to the package, that is also the include root of the
generated headers), so `proto/dbrepl/v1/peer.proto` is imported and included
as `dbrepl/v1/peer.proto` / "dbrepl/v1/peer.pb.h".
"""

def cc_grpc_proto_library(name, srcs, deps = [], proto_deps = [], import_root = ".", grpc = True, visibility = None, external_prefix = ""):
    """Declares `name` (a cc_library) and `name + "_protos"` (the sources).

    Args:
      name: the cc_library's name.
      srcs: .proto files of this library, under import_root.
      deps: other cc_grpc_proto_library targets whose protos these import.
      proto_deps: their `_protos` filegroups (so protoc sees the imports).
      import_root: directory relative to this package that import paths start at.
      grpc: whether to run the gRPC plugin (services present).
      visibility: as usual.
      external_prefix: for protos from an external repository, its exec path
        (e.g. "external/system/grpc_proto"); srcs are then labels there.
    """
    outs = []
    rel = []
    for src in srcs:
        base = src.split(":")[-1] if external_prefix else src
        if not external_prefix and import_root != ".":
            base = base[len(import_root) + 1:]
        stem = base[:-len(".proto")]
        rel.append(base)
        outs += [stem + ".pb.h", stem + ".pb.cc"]
        if grpc:
            outs += [stem + ".grpc.pb.h", stem + ".grpc.pb.cc"]

    pkg = native.package_name()
    if external_prefix:
        include_dir = external_prefix
    else:
        include_dir = pkg + ("/" + import_root if import_root != "." else "")
    out_dir = "$(GENDIR)/" + pkg

    cmd = "protoc -I%s --cpp_out=%s" % (include_dir, out_dir)
    if grpc:
        cmd += " --grpc_out=%s --plugin=protoc-gen-grpc=$$(command -v grpc_cpp_plugin)" % out_dir
    cmd += " " + " ".join(["%s/%s" % (include_dir, r) for r in rel])

    native.filegroup(name = name + "_protos", srcs = srcs + proto_deps, visibility = visibility)
    native.genrule(
        name = name + "_gen",
        srcs = srcs + proto_deps,
        outs = outs,
        cmd = cmd,
        message = "protoc %s" % name,
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        includes = ["."],
        copts = ["-Wno-unused-parameter", "-Wno-deprecated-declarations"],
        deps = deps + ["@system//:grpc++"],
        visibility = visibility,
    )
