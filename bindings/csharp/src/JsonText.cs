using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Polyipc
{
    /// <summary>
    /// Values to JSON text, as Json.NET writes them: every PutObject, Submit, Map, Serve result, Dict
    /// and List value goes through <see cref="Serialize"/>. Json.NET's set-up per call (a serializer,
    /// a writer, a contract lookup) costs 1-2 us a value on Mono, more than a small message's whole
    /// trip through a queue. So under its defaults (no settings given, none set globally) the common
    /// shapes are written here: null, booleans, integers, strings, JTokens (by their own writer), and
    /// one-dimensional arrays and List&lt;T&gt; of them, with Json.NET's text to the byte
    /// (JsonTextTests compares the two). Everything else (doubles, dates, chars, enums, byte arrays,
    /// dictionaries, objects), and every value under settings of the user's, whose converters may
    /// write any of these otherwise, is Json.NET's to write.
    /// </summary>
    internal static class JsonText
    {
        /// <summary>Nesting beyond this goes to Json.NET, with its own limits and errors (a list that holds itself).</summary>
        private const int MaxDepth = 16;

        public static string Serialize(object value, JsonSerializerSettings settings)
        {
            if (settings == null && JsonConvert.DefaultSettings == null)
            {
                var sb = new StringBuilder();
                if (TryWrite(value, sb, 0)) return sb.ToString();
            }
            return JsonConvert.SerializeObject(value, settings);
        }

        /// <summary>Appends value's JSON; false (sb then holds a part) when it is not one of the shapes written here.</summary>
        private static bool TryWrite(object value, StringBuilder sb, int depth)
        {
            if (value == null)
            {
                sb.Append("null");
                return true;
            }
            if (value is Enum) return false; // (its type code is its underlying integer's)
            var token = value as JToken;
            if (token != null)
            {
                sb.Append(token.ToString(Formatting.None)); // what Json.NET's serializer writes for it, without the serializer
                return true;
            }
            switch (Type.GetTypeCode(value.GetType()))
            {
                case TypeCode.Boolean:
                    sb.Append((bool)value ? "true" : "false");
                    return true;
                case TypeCode.SByte:
                case TypeCode.Byte:
                case TypeCode.Int16:
                case TypeCode.UInt16:
                case TypeCode.Int32:
                case TypeCode.UInt32:
                case TypeCode.Int64:
                case TypeCode.UInt64:
                    sb.Append(((IFormattable)value).ToString(null, CultureInfo.InvariantCulture));
                    return true;
                case TypeCode.String:
                    AppendQuoted(sb, (string)value);
                    return true;
                case TypeCode.Object:
                    break;
                default:
                    return false;
            }
            if (depth >= MaxDepth || value is byte[]) return false; // (byte[] is base64 text)
            IList list = ListOf(value);
            if (list == null) return false;
            sb.Append('[');
            for (int i = 0; i < list.Count; i++)
            {
                if (i > 0) sb.Append(',');
                if (!TryWrite(list[i], sb, depth + 1)) return false;
            }
            sb.Append(']');
            return true;
        }

        /// <summary>s as a JSON string, escaped as Json.NET's writer escapes it by default.</summary>
        public static string Quote(string s)
        {
            var sb = new StringBuilder(s.Length + 2);
            AppendQuoted(sb, s);
            return sb.ToString();
        }

        /// <summary>
        /// Json.NET's default escaping: '"', '\\', the control characters, U+0085, U+2028 and U+2029;
        /// \b \f \n \r \t by name, the others as \u and four lowercase hex digits. (Json.NET 6's own
        /// JsonConvert.ToString throws IndexOutOfRangeException on "a\n\u0001": a named escape a few
        /// characters in, then a \u one, overruns its buffer.)
        /// </summary>
        private static void AppendQuoted(StringBuilder sb, string s)
        {
            sb.Append('"');
            int plain = 0; // where the run of characters written as they are starts
            for (int i = 0; i < s.Length; i++)
            {
                char c = s[i];
                if (c >= ' ' && c != '"' && c != '\\' && c != '\u0085' && c != '\u2028' && c != '\u2029') continue;
                sb.Append(s, plain, i - plain);
                plain = i + 1;
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\b': sb.Append("\\b"); break;
                    case '\f': sb.Append("\\f"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default: sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
                }
            }
            sb.Append(s, plain, s.Length - plain).Append('"');
        }

        /// <summary>
        /// value as the list of items Json.NET writes for it: a one-dimensional array, or exactly
        /// List&lt;T&gt; (a list type of the user's may carry attributes that make Json.NET write it
        /// otherwise); else null.
        /// </summary>
        private static IList ListOf(object value)
        {
            var array = value as Array;
            if (array != null) return array.Rank == 1 ? array : null;
            Type t = value.GetType();
            return t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>) ? (IList)value : null;
        }
    }
}
