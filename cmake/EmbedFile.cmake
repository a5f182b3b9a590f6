# embed_text_file(<target> <input> <namespace-qualified function> <output.cpp>)
# Generates a .cpp defining `std::string_view <function>()` returning the file's text, rebuilt
# when the input changes (the input is a configure dependency).
function(embed_text_file target input function output)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${input})
  file(READ ${input} content)
  string(REGEX REPLACE "::[^:]+$" "" ns "${function}")
  string(REGEX REPLACE "^.*::" "" fn "${function}")
  set(text "// Generated from ${input}; do not edit.\n#include <string_view>\nnamespace ${ns} {\nstd::string_view ${fn}() {\n  static constexpr char kText[] = R\"ISVCEMBED(${content})ISVCEMBED\";\n  return {kText, sizeof(kText) - 1};\n}\n}  // namespace ${ns}\n")
  file(WRITE ${output}.tmp "${text}")
  configure_file(${output}.tmp ${output} COPYONLY)
  target_sources(${target} PRIVATE ${output})
endfunction()
