# Warnings.cmake: the warning set every cio target compiles with; -Werror when CIO_WERROR=ON (CI sets it).
option(CIO_WERROR "Treat warnings as errors" OFF)
set(CIO_WARNINGS -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wundef -Wvla
    -Wpointer-arith)
# Tests and their helpers: the common warnings (test bodies are not held to the prototype rules).
set(CIO_TEST_WARNINGS -Wall -Wextra)
if(CIO_WERROR)
  list(APPEND CIO_WARNINGS -Werror)
  list(APPEND CIO_TEST_WARNINGS -Werror)
endif()
