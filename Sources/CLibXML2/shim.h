/* libxml2 is built with ICU support on Debian, and its headers then pull in
 * the system's ICU headers, which clash with the ICU copy inside Swift's
 * Foundation. We only use the streaming reader and the HTML parser's tree
 * (through pointers), never the ICU-specific encoding-handler fields, so the
 * ICU include is switched off. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/xmlreader.h>
#include <libxml/xmlerror.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
