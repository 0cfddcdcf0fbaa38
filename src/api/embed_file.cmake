# Generates a C++ source defining `std::string_view <FUNCTION>()` that
# returns the bytes of INPUT. Run as: cmake -DINPUT=... -DOUTPUT=...
# -DFUNCTION=... -P embed_file.cmake
file(READ "${INPUT}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
file(WRITE "${OUTPUT}.tmp"
"// Generated from ${INPUT} by embed_file.cmake; do not edit.
#include <string_view>
namespace lifeline {
namespace {
const unsigned char kBytes[] = {${bytes}0};
}  // namespace
std::string_view ${FUNCTION}() {
  return std::string_view(reinterpret_cast<const char*>(kBytes), ${size});
}
}  // namespace lifeline
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
