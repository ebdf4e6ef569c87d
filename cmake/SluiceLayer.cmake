# sluice_layer(<name> DIRS <dir>... [EXCLUDE <file>...] [SOURCES <file>...]
#              [LAYERS <lower layer>...] [LIBS <system library>...])
#
# One static library per layer, sluice_<name>, from the .c files of <dirs>
# (minus EXCLUDE, plus SOURCES), linked PUBLIC to the layers below it that it
# names and to the system libraries it needs.  Its include root is the source
# tree, so every include reads "layer/dir/file.h".
#
# Each layer also gets a link check, layercheck_<name>: an executable made of
# the whole library (--whole-archive) plus only its declared lower layers, so
# a call from a layer into one above it, or into one it does not name, fails
# the build as an undefined reference.  Static libraries would otherwise
# accept such a call until the final link, where everything is present.
function(sluice_layer name)
  cmake_parse_arguments(ARG "" "" "DIRS;EXCLUDE;SOURCES;LAYERS;LIBS" ${ARGN})
  set(_src ${ARG_SOURCES})
  foreach(_dir ${ARG_DIRS})
    file(GLOB _found CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${_dir}/*.c)
    list(APPEND _src ${_found})
  endforeach()
  foreach(_ex ${ARG_EXCLUDE})
    list(REMOVE_ITEM _src ${CMAKE_SOURCE_DIR}/${_ex})
  endforeach()
  list(FILTER _src EXCLUDE REGEX "/fuzz_[^/]*\\.c$")
  set(_lib sluice_${name})
  add_library(${_lib} STATIC ${_src})
  target_include_directories(${_lib} PUBLIC ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/gen)
  set(_deps)
  foreach(_layer ${ARG_LAYERS})
    list(APPEND _deps sluice_${_layer})
  endforeach()
  target_link_libraries(${_lib} PUBLIC ${_deps} ${ARG_LIBS})

  add_executable(layercheck_${name} ${CMAKE_SOURCE_DIR}/cmake/layercheck_main.c)
  target_link_libraries(layercheck_${name} PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,${_lib}>")
endfunction()
