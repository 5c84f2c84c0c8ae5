# Rooms: each source folder is one static library that may use only the rooms
# below it. dk_room(NAME FOLDER [DEPS room...] SOURCES file...) creates the
# target dk_NAME, links it to its DEPS and gives it an include directory in
# the build tree that holds links to its own folder and to the folders of the
# rooms below it, and to nothing else: an include that runs back up a floor
# ("layers/x.c" including "exec/session_internal.h") does not compile. The
# public headers (include/deltakern/) are visible to every room.
#
# DEPS must name rooms already declared, so the order of the dk_room calls is
# the order of the floors and no cycle can be written down.

set_property(GLOBAL PROPERTY DK_ROOMS "")

function(dk_room name folder)
  cmake_parse_arguments(R "" "" "DEPS;SOURCES" ${ARGN})
  set(below "")
  foreach(dep IN LISTS R_DEPS)
    if(NOT TARGET dk_${dep})
      message(FATAL_ERROR "room ${name}: DEPS names '${dep}', which is not declared below it")
    endif()
    get_property(dep_below GLOBAL PROPERTY DK_ROOM_BELOW_${dep})
    list(APPEND below ${dep} ${dep_below})
  endforeach()
  list(REMOVE_DUPLICATES below)
  set_property(GLOBAL PROPERTY DK_ROOM_BELOW_${name} "${below}")
  set_property(GLOBAL PROPERTY DK_ROOM_FOLDER_${name} "${folder}")
  set_property(GLOBAL APPEND PROPERTY DK_ROOMS ${name})

  # the room's view of the source tree: itself and the rooms below
  set(view ${CMAKE_BINARY_DIR}/rooms/${name})
  file(REMOVE_RECURSE ${view})
  foreach(room IN ITEMS ${name} ${below})
    get_property(f GLOBAL PROPERTY DK_ROOM_FOLDER_${room})
    get_filename_component(parent ${view}/${f} DIRECTORY)
    file(MAKE_DIRECTORY ${parent})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${f} ${view}/${f} SYMBOLIC)
  endforeach()

  list(TRANSFORM R_SOURCES PREPEND ${PROJECT_SOURCE_DIR}/${folder}/)
  add_library(dk_${name} STATIC ${R_SOURCES})
  target_include_directories(dk_${name} PRIVATE ${view} PUBLIC ${PROJECT_SOURCE_DIR}/include)
  target_compile_definitions(dk_${name} PRIVATE _POSIX_C_SOURCE=200809L DK_VERSION="${PROJECT_VERSION}")
  foreach(dep IN LISTS R_DEPS)
    target_link_libraries(dk_${name} PUBLIC dk_${dep})
  endforeach()
endfunction()

# dk_rooms_manifest(FILE): one line per room, "NAME ARCHIVE BELOW...", for the
# link-level check of the floors (tests/tools/check_rooms.sh: a room may call
# only functions defined in itself or below it, which includes cannot show
# for functions declared in the public headers).
function(dk_rooms_manifest file)
  get_property(rooms GLOBAL PROPERTY DK_ROOMS)
  set(content "")
  foreach(room IN LISTS rooms)
    get_property(below GLOBAL PROPERTY DK_ROOM_BELOW_${room})
    string(REPLACE ";" " " below "${below}")
    string(APPEND content "${room} $<TARGET_FILE:dk_${room}> ${below}\n")
  endforeach()
  file(GENERATE OUTPUT ${file} CONTENT "${content}")
endfunction()
