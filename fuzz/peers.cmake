# peers.cmake: llhttp (strict mode, from Debian's node-llhttp sources) and picohttpparser (phr_* in Debian's
# libh2o-evloop), the parsers cio's HTTP parser is checked and measured against. Never linked into libcio.
if(NOT TARGET cio_http_peers)
  set(CIO_LLHTTP_SRC_DIR /usr/share/llhttp CACHE PATH "llhttp C sources (Debian: node-llhttp)")
  set(CIO_LLHTTP_INCLUDE_DIR /usr/share/include/llhttp CACHE PATH "llhttp.h (Debian: node-llhttp)")
  find_library(CIO_H2O_EVLOOP_LIB NAMES h2o-evloop)
  if(EXISTS ${CIO_LLHTTP_SRC_DIR}/llhttp.c AND EXISTS ${CIO_LLHTTP_INCLUDE_DIR}/llhttp.h AND CIO_H2O_EVLOOP_LIB)
    add_library(cio_http_peers STATIC
      ${CIO_LLHTTP_SRC_DIR}/api.c ${CIO_LLHTTP_SRC_DIR}/http.c ${CIO_LLHTTP_SRC_DIR}/llhttp.c)
    target_include_directories(cio_http_peers PUBLIC ${CIO_LLHTTP_INCLUDE_DIR})
    # Strict mode: the llhttp behaviour cio is held to. -O2 whatever the build type, as the peers ship.
    target_compile_definitions(cio_http_peers PRIVATE LLHTTP_STRICT_MODE=1)
    target_compile_definitions(cio_http_peers PUBLIC CIO_HAVE_HTTP_PEERS=1)
    target_compile_options(cio_http_peers PRIVATE -O2 -w)
    target_link_libraries(cio_http_peers PUBLIC ${CIO_H2O_EVLOOP_LIB})
  else()
    message(STATUS "cio: llhttp sources or libh2o-evloop not found: no differential tests or parser peers")
  endif()
endif()
