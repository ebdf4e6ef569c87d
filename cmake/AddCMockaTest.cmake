# add_cmocka_test(<name> SOURCES <files...> LINK_LIBRARIES <libs...>)
# One executable per module test, registered with ctest.
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)

function(add_cmocka_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LINK_LIBRARIES" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE PkgConfig::CMOCKA ${ARG_LINK_LIBRARIES})
  add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 120
    ENVIRONMENT "SLUICE_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()
